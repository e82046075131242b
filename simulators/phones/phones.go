// Package phones stands in for the grid workers' phones in the demo city:
// an HTTP server that receives what chargewatch's notifiers send (the SMS
// gateway's requests and webhook posts), writes one line per message to a
// log, and, like a worker who reads the message, acknowledges part of the
// alerts through their personal links after a delay, so the demo shows
// both acknowledged alerts and ladders that escalate.
//
//	POST /sms          {"phone": "...", "text": "..."}: the demo SMS gateway
//	POST /hook/{name}  chargewatch's webhook body (docs/notifications.md)
//
// It checks the formats it is sent and answers 400 with the reason when
// they are wrong, as a real gateway would; it never delivers anything.
package phones

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Config configures the phones.
type Config struct {
	Listen string // host:port
	// AckAfter is how long after a message a worker acknowledges its
	// alert through the personal link; 0 never.
	AckAfter time.Duration
	// AckShare is the share of personal links that are acknowledged
	// (chosen by a hash of the link, so the same in every run); the rest
	// escalate. Default 2/3.
	AckShare float64
	Log      io.Writer    // one line per message; nil: discard
	Logger   *slog.Logger // errors; nil: discard
}

// Phones is the demo's phones.
type Phones struct {
	cfg    Config
	client *http.Client
	mu     sync.Mutex // serialises log lines
	acks   sync.WaitGroup
	ctx    context.Context
}

// New returns phones for cfg.
func New(cfg Config) *Phones {
	if cfg.AckShare == 0 {
		cfg.AckShare = 2.0 / 3
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Phones{cfg: cfg, client: &http.Client{Timeout: 10 * time.Second}, ctx: context.Background()}
}

// Run serves until ctx ends, then waits for acknowledgements in flight.
func (p *Phones) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", p.cfg.Listen)
	if err != nil {
		return fmt.Errorf("phones: listen %s: %w", p.cfg.Listen, err)
	}
	return p.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends.
func (p *Phones) Serve(ctx context.Context, ln net.Listener) error {
	p.ctx = ctx
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	p.acks.Wait()
	return err
}

// Handler is the phones' HTTP handler.
func (p *Phones) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sms", p.sms)
	mux.HandleFunc("POST /hook/{name}", p.hook)
	return mux
}

type smsRequest struct {
	Phone string `json:"phone"`
	Text  string `json:"text"`
}

func (p *Phones) sms(w http.ResponseWriter, r *http.Request) {
	var m smsRequest
	if err := decode(r, &m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if m.Phone == "" || m.Text == "" {
		http.Error(w, `an SMS needs "phone" and "text"`, http.StatusBadRequest)
		return
	}
	p.line("SMS to %s: %s", m.Phone, oneLine(m.Text))
	p.maybeAck(ackLinkRE.FindString(m.Text), "SMS "+m.Phone)
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"code":"0"}`)
}

type hookMessage struct {
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Title     string `json:"title"`
	AckURL    string `json:"ack_url"`
	Recipient struct {
		Person string `json:"person"`
		Name   string `json:"name"`
	} `json:"recipient"`
	Alerts []json.RawMessage `json:"alerts"`
}

func (p *Phones) hook(w http.ResponseWriter, r *http.Request) {
	var m hookMessage
	if err := decode(r, &m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if m.Version == "" || m.Kind == "" || len(m.Alerts) == 0 {
		http.Error(w, `a chargewatch webhook needs "version", "kind" and "alerts"`, http.StatusBadRequest)
		return
	}
	who := strings.TrimSpace(m.Recipient.Name + " " + m.Recipient.Person)
	p.line("webhook %s (%s) %s: %s", r.PathValue("name"), who, m.Kind, m.Title)
	p.maybeAck(m.AckURL, "webhook "+r.PathValue("name"))
	w.WriteHeader(http.StatusNoContent)
}

func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("content type %q: send application/json", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body: %v", err)
	}
	return nil
}

// ackLinkRE finds a personal acknowledgement link in a text.
var ackLinkRE = regexp.MustCompile(`https?://[^\s"]+/ack/[A-Za-z0-9._~-]+`)

// acknowledges reports whether the worker acknowledges with link.
func (p *Phones) acknowledges(link string) bool {
	h := fnv.New32a()
	h.Write([]byte(link))
	return float64(h.Sum32()%1000) < p.cfg.AckShare*1000
}

// maybeAck opens the link and confirms, as a worker does, after AckAfter.
func (p *Phones) maybeAck(link, who string) {
	if link == "" || p.cfg.AckAfter <= 0 || !p.acknowledges(link) {
		return
	}
	p.acks.Add(1)
	go func() {
		defer p.acks.Done()
		select {
		case <-time.After(p.cfg.AckAfter):
		case <-p.ctx.Done():
			return
		}
		if err := p.ack(p.ctx, link); err != nil {
			p.cfg.Logger.Warn("demo acknowledgement failed", "who", who, "err", err)
			p.line("%s did not get through acknowledging: %v", who, err)
			return
		}
		p.line("%s acknowledged through the link", who)
	}()
}

// ack does what a person does: open the link (a GET shows the
// confirmation page and acknowledges nothing), then press the button.
func (p *Phones) ack(ctx context.Context, link string) error {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader(url.Values{"confirm": {"yes"}}.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, link, body)
		if err != nil {
			return err
		}
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := p.client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(method + " of the link: " + resp.Status)
		}
	}
	return nil
}

func (p *Phones) line(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.cfg.Log, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 160 {
		s = string(r[:160]) + "…"
	}
	return s
}
