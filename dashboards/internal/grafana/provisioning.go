package grafana

import (
	"fmt"
	"os"
	"regexp"

	"gopkg.in/yaml.v3"
)

// ProvisionedDatasource is one entry of a datasource provisioning file.
type ProvisionedDatasource struct {
	Name     string `yaml:"name"`
	UID      string `yaml:"uid"`
	Type     string `yaml:"type"`
	Access   string `yaml:"access"`
	URL      string `yaml:"url"`
	User     string `yaml:"user"`
	JSONData struct {
		Version      string `yaml:"version"`
		DBName       string `yaml:"dbName"`
		HTTPMode     string `yaml:"httpMode"`
		HTTPMethod   string `yaml:"httpMethod"`
		TimeInterval string `yaml:"timeInterval"`
	} `yaml:"jsonData"`
	SecureJSONData struct {
		Password string `yaml:"password"`
	} `yaml:"secureJsonData"`
}

// envRE matches the ${VAR} and $VAR references that Grafana expands in
// provisioning files.
var envRE = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)

// ParseDatasources reads a datasource provisioning file, expanding environment
// references from env like Grafana does from its environment.
func ParseDatasources(data []byte, env map[string]string) ([]ProvisionedDatasource, error) {
	expanded := envRE.ReplaceAllStringFunc(string(data), func(m string) string {
		sub := envRE.FindStringSubmatch(m)
		return env[firstNonEmpty(sub[1], sub[2])]
	})
	var f struct {
		APIVersion  int                     `yaml:"apiVersion"`
		Datasources []ProvisionedDatasource `yaml:"datasources"`
	}
	if err := yaml.Unmarshal([]byte(expanded), &f); err != nil {
		return nil, err
	}
	if f.APIVersion != 1 {
		return nil, fmt.Errorf("apiVersion %d, want 1", f.APIVersion)
	}
	return f.Datasources, nil
}

// LoadDatasources reads a provisioning file and returns its datasources
// ready to query, keyed by uid.
func LoadDatasources(path string, env map[string]string) (map[string]*Datasource, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pds, err := ParseDatasources(b, env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]*Datasource{}
	for _, p := range pds {
		d := &Datasource{UID: p.UID, Type: p.Type, TimeInterval: p.JSONData.TimeInterval}
		switch p.Type {
		case "influxdb":
			d.Influx = &Influx{URL: p.URL, Database: p.JSONData.DBName, User: p.User, Password: p.SecureJSONData.Password}
		case "prometheus":
			d.Prometheus = &Prometheus{URL: p.URL}
		}
		out[p.UID] = d
	}
	return out, nil
}
