package sms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/notify"
)

// render runs one template over r with the template functions of a
// notifier holding secrets.
func render(t *testing.T, text string, r *Request, secrets map[string]string) (string, error) {
	t.Helper()
	n := &Notifier{secrets: map[string]notify.Secret{}, redact: notify.NewRedactor()}
	for k, v := range secrets {
		n.secrets[k] = notify.NewSecret(v)
		n.redact.Add(v)
	}
	tpl, err := n.parse("test", text)
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	var b bytes.Buffer
	err = tpl.Execute(&b, r)
	return b.String(), err
}

// The providers' own worked examples, reproduced with the template
// functions alone.
func TestPublishedSignatures(t *testing.T) {
	for _, c := range []struct {
		name    string
		source  string
		tpl     string
		r       Request
		secrets map[string]string
		want    string
	}{
		{
			// Alibaba Cloud, "API 签名机制(示例)": DescribeRegions with AccessKeyId
			// "testid", AccessKeySecret "testsecret", so the HMAC key "testsecret&".
			// https://developer.aliyun.com/ask/210168
			// The page prints the StringToSign with its inner "%26" shown as "&";
			// the signature it publishes is that of the encoded form tested here.
			name:   "aliyun string to sign",
			source: "https://developer.aliyun.com/ask/210168",
			tpl: `{{$q := canonicalQuery "TimeStamp" (utc "2006-01-02T15:04:05Z" .Timestamp) "Format" "XML" "AccessKeyId" (secret "id")
				"Action" "DescribeRegions" "SignatureMethod" "HMAC-SHA1" "SignatureNonce" .UUID "Version" "2014-05-26" "SignatureVersion" "1.0"}}` +
				`{{print "GET&%2F&" (percentEncode $q)}}`,
			r:       Request{Timestamp: time.Date(2016, 2, 23, 12, 46, 24, 0, time.UTC).Unix(), UUID: "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
			secrets: map[string]string{"id": "testid"},
			want: "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1" +
				"%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0" +
				"%26TimeStamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26",
		},
		{
			name:   "aliyun signature",
			source: "https://developer.aliyun.com/ask/210168",
			tpl: `{{$q := canonicalQuery "TimeStamp" (utc "2006-01-02T15:04:05Z" .Timestamp) "Format" "XML" "AccessKeyId" (secret "id")
				"Action" "DescribeRegions" "SignatureMethod" "HMAC-SHA1" "SignatureNonce" .UUID "Version" "2014-05-26" "SignatureVersion" "1.0"}}` +
				`{{base64 (hmacSHA1 (print (secret "secret") "&") (print "GET&%2F&" (percentEncode $q)))}}`,
			r:       Request{Timestamp: time.Date(2016, 2, 23, 12, 46, 24, 0, time.UTC).Unix(), UUID: "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
			secrets: map[string]string{"id": "testid", "secret": "testsecret"},
			want:    "CT9X0VtwR86fNWSnsc6v8YGOjuE=",
		},
		{
			// The same page's final URL carries it as Signature=CT9X0VtwR86fNWSnsc6v8YGOjuE%3D.
			name:    "aliyun signature in the url",
			source:  "https://developer.aliyun.com/ask/210168",
			tpl:     `Signature={{percentEncode "CT9X0VtwR86fNWSnsc6v8YGOjuE="}}&TimeStamp={{percentEncode (utc "2006-01-02T15:04:05Z" .Timestamp)}}`,
			r:       Request{Timestamp: time.Date(2016, 2, 23, 12, 46, 24, 0, time.UTC).Unix()},
			want:    "Signature=CT9X0VtwR86fNWSnsc6v8YGOjuE%3D&TimeStamp=2016-02-23T12%3A46%3A24Z",
			secrets: nil,
		},
		{
			// Tencent Cloud, 接口鉴权 v3 (TC3-HMAC-SHA256): CVM DescribeInstances with
			// SecretId AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE, SecretKey
			// Gu5t9xGARNpq86cd98joQYCN3EXAMPLE, X-TC-Timestamp 1551113065; published
			// HashedRequestPayload 35e9c5b0..., HashedCanonicalRequest 5ffe6a04...,
			// and the Authorization header below.
			// https://cloud.tencent.com/document/api/400/37390
			name:   "tencent hashed payload and canonical request",
			source: "https://cloud.tencent.com/document/api/400/37390",
			tpl: `{{$request := print "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:" .Host "\n\ncontent-type;host\n" (sha256Hex .Body)}}` +
				`{{sha256Hex .Body}} {{sha256Hex $request}}`,
			r: Request{Host: "cvm.tencentcloudapi.com", Timestamp: 1551113065,
				Body: `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`},
			want: "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064 5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031",
		},
		{
			name:   "tencent authorization",
			source: "https://cloud.tencent.com/document/api/400/37390",
			// The shipped Tencent template's Authorization, with the service cvm for sms.
			tpl: `{{- $date := utc "2006-01-02" .Timestamp -}}
				{{- $scope := print $date "/cvm/tc3_request" -}}
				{{- $request := print "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:" .Host "\n\ncontent-type;host\n" (sha256Hex .Body) -}}
				{{- $toSign := print "TC3-HMAC-SHA256\n" .Timestamp "\n" $scope "\n" (sha256Hex $request) -}}
				{{- $key := hmacSHA256 (hmacSHA256 (hmacSHA256 (print "TC3" (secret "secret_key")) $date) "cvm") "tc3_request" -}}
				TC3-HMAC-SHA256 Credential={{secret "secret_id"}}/{{$scope}}, SignedHeaders=content-type;host, Signature={{hex (hmacSHA256 $key $toSign)}}`,
			r: Request{Host: "cvm.tencentcloudapi.com", Timestamp: 1551113065,
				Body: `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`},
			secrets: map[string]string{"secret_id": "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "secret_key": "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"},
			want: "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, " +
				"SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := render(t, c.tpl, &c.r, c.secrets)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("%s\n got %s\nwant %s (published at %s)", c.name, got, c.want, c.source)
			}
		})
	}
}

func TestTemplateFunctions(t *testing.T) {
	r := &Request{Phone: "13800000001", Timestamp: 1551113065}
	for _, c := range []struct{ tpl, want, err string }{
		{tpl: `{{percentEncode "a b*c~d+e/f=g&h"}}`, want: "a%20b%2Ac~d%2Be%2Ff%3Dg%26h"},
		{tpl: `{{percentEncode "阿里云"}}`, want: "%E9%98%BF%E9%87%8C%E4%BA%91"},
		{tpl: `{{percentEncode "-_.~AZaz09!'()"}}`, want: "-_.~AZaz09%21%27%28%29"},
		{tpl: `{{canonicalQuery "b" "2" "a" "1 1" "B" "x"}}`, want: "B=x&a=1%201&b=2"},
		{tpl: `{{canonicalQuery}}`, want: ""},
		{tpl: `{{canonicalQuery "a"}}`, err: "odd"},
		{tpl: `{{canonicalQuery "a" "1" "a" "2"}}`, err: `key "a" given twice`},
		{tpl: `{{jsonObject "b" "<&>" "a" "一"}}`, want: `{"a":"一","b":"\u003c\u0026\u003e"}`},
		{tpl: `{{jsonObject "a"}}`, err: "odd"},
		{tpl: `{{utc "2006-01-02T15:04:05Z" .Timestamp}} {{.Timestamp | utc "2006-01-02"}}`, want: "2019-02-25T16:44:25Z 2019-02-25"},
		{tpl: `{{e164 .Phone}} {{e164 "+85261234567"}} {{e164 "008613800000001"}} {{e164 "8613800000001"}}`, want: "+8613800000001 +85261234567 +8613800000001 +8613800000001"},
		{tpl: `{{hex "ab"}} {{base64 "ab"}} {{sha256Hex ""}}`, want: "6162 YWI= e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		// RFC 4231 test case 2 and RFC 2202 test case 2.
		{tpl: `{{hex (hmacSHA256 "Jefe" "what do ya want for nothing?")}}`, want: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{tpl: `{{hex (hmacSHA1 "Jefe" "what do ya want for nothing?")}}`, want: "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
		// Chaining on raw bytes differs from chaining on their hex.
		{tpl: `{{hex (hmacSHA256 (hmacSHA256 "k" "a") "b")}}`, want: hmacHex(hmacRaw("k", "a"), "b")},
		{tpl: `{{hmacSHA256Hex "k" "a"}}`, want: hmacHex([]byte("k"), "a")},
		{tpl: `{{hex .Timestamp}}`, err: "want a string or bytes, got a int64"},
		{tpl: `{{hmacSHA1 "k" .ID}}`, err: "message: want a string or bytes"},
		// Raw bytes never print as themselves.
		{tpl: `{{hmacSHA256 "k" "a"}}`, want: "(raw bytes: pass them to hex or base64)"},
	} {
		got, err := render(t, c.tpl, r, nil)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want %q", c.tpl, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.tpl, err)
		case c.err == "" && got != c.want:
			t.Errorf("%s = %q, want %q", c.tpl, got, c.want)
		}
	}
	if u := newUUID(); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u) || u == newUUID() {
		t.Errorf("uuid %q", u)
	}
}

func hmacRaw(key, msg string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func hmacHex(key []byte, msg string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func TestLookup(t *testing.T) {
	var doc any
	json.Unmarshal([]byte(`{"Code":"OK","Response":{"SendStatusSet":[{"Code":"Ok","Fee":1}],"Error":null}}`), &doc)
	for _, c := range []struct {
		path, want string
		ok         bool
	}{
		{"Code", "OK", true},
		{"Response.SendStatusSet.0.Code", "Ok", true},
		{"Response.SendStatusSet.0.Fee", "1", true},
		{"Response.SendStatusSet.1.Code", "", false},
		{"Response.SendStatusSet.x.Code", "", false},
		{"Response.SendStatusSet.-1.Code", "", false},
		{"Response.Error", "null", true},
		{"Response.Error.Code", "", false},
		{"Code.x", "", false},
	} {
		if got, ok := lookup(doc, c.path); got != c.want || ok != c.ok {
			t.Errorf("%s: %q %v, want %q %v", c.path, got, ok, c.want, c.ok)
		}
	}
}

// loadExample reads a shipped template (examples/notifications) strictly.
func loadExample(t *testing.T, name string) *Config {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "notifications", name))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Channels struct {
			SMS *Config `yaml:"sms"`
		} `yaml:"channels"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if f.Channels.SMS == nil {
		t.Fatalf("%s: no channels.sms", name)
	}
	if err := f.Channels.SMS.Validate(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f.Channels.SMS
}

// provider is a local stand-in for an SMS provider's API: it checks each
// request the way the provider documents it, recomputing the signature
// with its own code, and answers as the provider does.
type provider struct {
	t      *testing.T
	keyID  string // the AccessKeyId / SecretId it knows
	secret string // the AccessKeySecret / SecretKey it knows
	// answer is what it says when the request is well formed and signed.
	answer func(w http.ResponseWriter)

	mu       sync.Mutex
	requests int
	badSig   int
	nonces   map[string]bool
	params   map[string]any // the last request's business parameters
}

// Alibaba Cloud's percentEncode as its signature page writes it:
// URLEncoder, then + to %20, * to %2A and %7E back to ~.
func aliyunEncode(s string) string {
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(url.QueryEscape(s))
}

// aliyun checks a Dysmsapi SendSms request (RPC style, POST form).
func (p *provider) aliyun(w http.ResponseWriter, r *http.Request) {
	t := p.t
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.URL.RawQuery != "" ||
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("aliyun: %s %s?%s %q", r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"))
	}
	b, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(b))
	if err != nil {
		t.Errorf("aliyun: form %q: %v", b, err)
	}
	for k, v := range form {
		if len(v) != 1 {
			t.Errorf("aliyun: parameter %s given %d times", k, len(v))
		}
	}
	want := map[string]string{"Action": "SendSms", "Version": "2017-05-25", "Format": "JSON", "RegionId": "cn-hangzhou",
		"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "AccessKeyId": p.keyID}
	for k, v := range want {
		if form.Get(k) != v {
			t.Errorf("aliyun: %s = %q, want %q", k, form.Get(k), v)
		}
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", form.Get("Timestamp"))
	if err != nil || time.Since(ts).Abs() > 5*time.Minute {
		t.Errorf("aliyun: Timestamp %q: %v", form.Get("Timestamp"), err)
	}
	nonce := form.Get("SignatureNonce")
	if nonce == "" || p.nonces[nonce] {
		t.Errorf("aliyun: SignatureNonce %q empty or reused", nonce)
	}
	p.nonces[nonce] = true
	for _, k := range []string{"PhoneNumbers", "SignName", "TemplateCode", "TemplateParam", "Signature"} {
		if form.Get(k) == "" {
			t.Errorf("aliyun: no %s", k)
		}
	}
	var tp map[string]string
	if err := json.Unmarshal([]byte(form.Get("TemplateParam")), &tp); err != nil {
		t.Errorf("aliyun: TemplateParam %q is not a JSON object of strings: %v", form.Get("TemplateParam"), err)
	}
	p.params = map[string]any{"PhoneNumbers": form.Get("PhoneNumbers"), "SignName": form.Get("SignName"),
		"TemplateCode": form.Get("TemplateCode"), "TemplateParam": tp, "OutId": form.Get("OutId")}
	// The signature, recomputed.
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var q []string
	for _, k := range keys {
		q = append(q, aliyunEncode(k)+"="+aliyunEncode(form.Get(k)))
	}
	toSign := "POST&" + aliyunEncode("/") + "&" + aliyunEncode(strings.Join(q, "&"))
	m := hmac.New(sha1.New, []byte(p.secret+"&"))
	m.Write([]byte(toSign))
	if sig := base64.StdEncoding.EncodeToString(m.Sum(nil)); sig != form.Get("Signature") {
		p.badSig++
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"RequestId":"8F4A5A3B-0000","HostId":"dysmsapi.aliyuncs.com","Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation. server string to sign is:%s"}`, toSign)
		return
	}
	p.answer(w)
}

var tc3Auth = regexp.MustCompile(`^TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/sms/tc3_request, SignedHeaders=content-type;host, Signature=([0-9a-f]{64})$`)

// tencent checks an SMS SendSms request (API 3.0, TC3-HMAC-SHA256).
func (p *provider) tencent(w http.ResponseWriter, r *http.Request) {
	t := p.t
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	ct := r.Header.Get("Content-Type")
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.URL.RawQuery != "" || ct != "application/json; charset=utf-8" {
		t.Errorf("tencent: %s %s?%s %q", r.Method, r.URL.Path, r.URL.RawQuery, ct)
	}
	for k, v := range map[string]string{"X-TC-Action": "SendSms", "X-TC-Version": "2021-01-11", "X-TC-Region": "ap-guangzhou"} {
		if r.Header.Get(k) != v {
			t.Errorf("tencent: %s: %q, want %q", k, r.Header.Get(k), v)
		}
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		t.Errorf("tencent: X-TC-Timestamp %q", r.Header.Get("X-TC-Timestamp"))
	}
	b, _ := io.ReadAll(r.Body)
	var body struct {
		PhoneNumberSet   []string
		SmsSdkAppId      string
		SignName         string
		TemplateId       string
		TemplateParamSet []string
		SessionContext   string
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Errorf("tencent: body %s: %v", b, err)
	}
	if body.SmsSdkAppId == "" || body.SignName == "" || body.TemplateId == "" || len(body.PhoneNumberSet) != 1 {
		t.Errorf("tencent: body %s", b)
	}
	p.params = map[string]any{"PhoneNumberSet": body.PhoneNumberSet, "TemplateParamSet": body.TemplateParamSet, "SessionContext": body.SessionContext}
	// The signature, recomputed from the request as received.
	m := tc3Auth.FindStringSubmatch(r.Header.Get("Authorization"))
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	if m == nil || m[1] != p.keyID || m[2] != date {
		t.Errorf("tencent: Authorization %q", r.Header.Get("Authorization"))
		m = []string{"", "", "", ""}
	}
	sum := func(s []byte) string { h := sha256.Sum256(s); return hex.EncodeToString(h[:]) }
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	canonical := "POST\n/\n\ncontent-type:" + ct + "\nhost:" + r.Host + "\n\ncontent-type;host\n" + sum(b)
	toSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(ts, 10) + "\n" + date + "/sms/tc3_request\n" + sum([]byte(canonical))
	key := mac(mac(mac([]byte("TC3"+p.secret), date), "sms"), "tc3_request")
	if hex.EncodeToString(mac(key, toSign)) != m[3] {
		p.badSig++
		fmt.Fprint(w, `{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"The provided credentials could not be validated. Please check your signature is correct."},"RequestId":"ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"}}`)
		return
	}
	p.answer(w)
}

func answer(status int, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// The shipped templates, end to end: the notifier configured with each
// sends to a local provider that verifies the request and its signature.
func TestProviderTemplates(t *testing.T) {
	const (
		keyID  = "LTAI5tTestKeyId7x9Q"
		secret = "s3cr3t/Key+With*Odd~Chars=="
		phone  = "13800000001"
		ackURL = "https://cw.example.org/ack/AQx9_k-2"
	)
	alert := notify.Alert{Alert: alerting.Alert{Rule: alerting.RuleSmoke, Severity: alerting.SeverityCritical},
		Names: notify.Names{District: "拱墅区", Street: "大塘街道", Community: "大塘新村", Building: "1幢", Room: "302"}}
	msg := &notify.Message{ID: 4242, Kind: notify.KindFiring, Locale: "zh", Title: "【紧急】烟感报警｜大塘新村1幢 302室",
		Text: "【紧急】烟感报警｜大塘新村1幢 302室\n确认接警：" + ackURL, AckURL: ackURL, Alerts: []notify.Alert{alert},
		Recipient: notify.Recipient{Person: "p-wang", Channel: "sms", Address: phone}}
	hazard, place := notify.Hazard("zh", alerting.RuleSmoke), notify.Place("zh", &alert)
	if hazard == "" || place == "" {
		t.Fatalf("hazard %q place %q", hazard, place)
	}

	type outcome int
	const (
		sent outcome = iota
		retried
		failed
	)
	for _, c := range []struct {
		name      string
		file      string
		handler   func(*provider) http.HandlerFunc
		idEnv     string
		idSecret  string
		keySecret string
		answers   []struct {
			answer  func(http.ResponseWriter)
			wrong   bool // the notifier signs with another secret
			outcome outcome
		}
		params map[string]any
	}{
		{
			name: "aliyun", file: "sms-aliyun.yaml", handler: func(p *provider) http.HandlerFunc { return p.aliyun },
			idEnv: "CW_ALIYUN_SMS_ACCESS_KEY_ID", idSecret: "access_key_id", keySecret: "access_key_secret",
			answers: []struct {
				answer  func(http.ResponseWriter)
				wrong   bool
				outcome outcome
			}{
				{answer: answer(200, `{"Message":"OK","RequestId":"F655A8D5-B967-440B-8683-DAD6FF8DE990","BizId":"900619746936498440^0","Code":"OK"}`), outcome: sent},
				{answer: answer(200, `{"Message":"触发号码天级流控Permits:10","RequestId":"A2B3C4D5","Code":"isv.BUSINESS_LIMIT_CONTROL"}`), outcome: retried},
				{answer: answer(200, `{"Message":"手机号码格式错误","RequestId":"A2B3C4D6","Code":"isv.MOBILE_NUMBER_ILLEGAL"}`), outcome: failed},
				{answer: answer(503, `{"Code":"ServiceUnavailable","Message":"The request has failed due to a temporary failure of the server."}`), outcome: retried},
				{wrong: true, outcome: failed},
			},
			params: map[string]any{"PhoneNumbers": phone, "SignName": "阳光社区消防", "TemplateCode": "SMS_000000001",
				"TemplateParam": map[string]string{"hazard": hazard, "place": place, "link": ackURL}, "OutId": "4242"},
		},
		{
			name: "tencent", file: "sms-tencent.yaml", handler: func(p *provider) http.HandlerFunc { return p.tencent },
			idEnv: "CW_TENCENT_SMS_SECRET_ID", idSecret: "secret_id", keySecret: "secret_key",
			answers: []struct {
				answer  func(http.ResponseWriter)
				wrong   bool
				outcome outcome
			}{
				{answer: answer(200, `{"Response":{"SendStatusSet":[{"SerialNo":"5000:1045710669157053657849499619","PhoneNumber":"+8613800000001","Fee":1,"SessionContext":"4242","Code":"Ok","Message":"send success","IsoCode":"CN"}],"RequestId":"a0aabda6-cf91-4f3e-a81f-9198114a2279"}}`), outcome: sent},
				{answer: answer(200, `{"Response":{"SendStatusSet":[{"SerialNo":"","PhoneNumber":"+8613800000001","Fee":0,"SessionContext":"4242","Code":"LimitExceeded.PhoneNumberDailyLimit","Message":"the number of SMS messages sent from a single mobile number every day exceeds the upper limit","IsoCode":"CN"}],"RequestId":"b1"}}`), outcome: failed},
				{answer: answer(200, `{"Response":{"SendStatusSet":[{"SerialNo":"","PhoneNumber":"+8613800000001","Fee":0,"SessionContext":"4242","Code":"LimitExceeded.PhoneNumberThirtySecondLimit","Message":"too fast","IsoCode":"CN"}],"RequestId":"b2"}}`), outcome: retried},
				{answer: answer(200, `{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"The number of requests exceeds the frequency limit."},"RequestId":"b3"}}`), outcome: retried},
				{answer: answer(200, `{"Response":{"Error":{"Code":"FailedOperation.TemplateIncorrectOrUnapproved","Message":"template unapproved"},"RequestId":"b4"}}`), outcome: failed},
				{wrong: true, outcome: failed},
			},
			params: map[string]any{"PhoneNumberSet": []string{"+86" + phone}, "TemplateParamSet": []string{hazard, place, ackURL}, "SessionContext": "4242"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &provider{t: t, keyID: keyID, secret: secret, nonces: map[string]bool{}}
			srv := httptest.NewServer(c.handler(p))
			defer srv.Close()
			t.Setenv(c.idEnv, keyID)
			dir := t.TempDir()
			newNotifier := func(secretValue string) *Notifier {
				cfg := loadExample(t, c.file)
				cfg.URL = srv.URL + "/"
				f := filepath.Join(dir, "key")
				if err := os.WriteFile(f, []byte(secretValue+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(cfg.Secrets[c.idSecret], "env:"+c.idEnv) || !strings.HasPrefix(cfg.Secrets[c.keySecret], "file:") {
					t.Fatalf("secrets %v", cfg.Secrets)
				}
				cfg.Secrets[c.keySecret] = "file:" + f
				n, err := New(cfg, srv.Client())
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			good, wrong := newNotifier(secret), newNotifier("another-secret-value")
			for i, a := range c.answers {
				p.mu.Lock()
				p.answer, p.params = a.answer, nil
				before := p.badSig
				p.mu.Unlock()
				n := good
				if a.wrong {
					n = wrong
				}
				err := n.Notify(context.Background(), msg)
				var got outcome
				switch {
				case err == nil:
					got = sent
				case notify.IsPermanent(err):
					got = failed
				default:
					got = retried
				}
				if got != a.outcome {
					t.Errorf("answer %d: outcome %d, want %d: %v", i, got, a.outcome, err)
				}
				p.mu.Lock()
				if bad := p.badSig > before; bad != a.wrong {
					t.Errorf("answer %d: the provider found the signature bad: %v", i, bad)
				}
				if !a.wrong {
					if fmt.Sprint(p.params) != fmt.Sprint(c.params) {
						t.Errorf("answer %d: parameters\n%v\nwant\n%v", i, p.params, c.params)
					}
				}
				p.mu.Unlock()
				if err != nil {
					for _, s := range []string{secret, keyID, "another-secret-value", url.QueryEscape(secret), aliyunEncode(secret)} {
						if strings.Contains(err.Error(), s) {
							t.Errorf("answer %d: the error shows a secret (%q): %v", i, s, err)
						}
					}
					var ne *notify.Error
					if !errors.As(err, &ne) {
						t.Errorf("answer %d: %T is not a notify.Error", i, err)
					}
				}
			}
			if p.requests != len(c.answers) {
				t.Errorf("%d requests, want %d", p.requests, len(c.answers))
			}
		})
	}
}

// The shipped templates load as they are, with their secrets supplied.
func TestExampleTemplatesLoad(t *testing.T) {
	t.Setenv("CW_TEST_EXAMPLE_SECRET", "x")
	for _, name := range []string{"sms-aliyun.yaml", "sms-tencent.yaml"} {
		cfg := loadExample(t, name)
		for k := range cfg.Secrets {
			cfg.Secrets[k] = "env:CW_TEST_EXAMPLE_SECRET"
		}
		if _, err := New(cfg, nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
