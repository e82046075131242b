package dashboards

import (
	"bytes"
	"encoding/json"
	"reflect"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
)

// InfluxQL is a raw InfluxQL target of Grafana's InfluxDB datasource, as the
// datasource stores it in a dashboard (the SDK has no InfluxDB query type).
type InfluxQL struct {
	RefID        string                `json:"refId"`
	Hide         *bool                 `json:"hide,omitempty"`
	Datasource   *common.DataSourceRef `json:"datasource,omitempty"`
	RawQuery     bool                  `json:"rawQuery"`
	Query        string                `json:"query"`
	ResultFormat string                `json:"resultFormat,omitempty"` // time_series or table
	Alias        string                `json:"alias,omitempty"`

	// Annotation targets only (the datasource's migrated annotation format).
	FromAnnotations bool   `json:"fromAnnotations,omitempty"`
	QueryType       string `json:"queryType,omitempty"`
	TextColumn      string `json:"textColumn,omitempty"`
	TagsColumn      string `json:"tagsColumn,omitempty"`
	TitleColumn     string `json:"titleColumn,omitempty"`
}

// ImplementsDataqueryVariant marks InfluxQL as a dashboard query.
func (InfluxQL) ImplementsDataqueryVariant() {}

// DataqueryType returns the datasource plugin id.
func (InfluxQL) DataqueryType() string { return InfluxType }

// Validate implements variants.Dataquery.
func (InfluxQL) Validate() error { return nil }

// Equals implements variants.Dataquery.
func (q InfluxQL) Equals(other variants.Dataquery) bool {
	o, ok := other.(InfluxQL)
	return ok && reflect.DeepEqual(q, o)
}

// InfluxQLVariantConfig lets the SDK unmarshal dashboards holding InfluxQL targets.
func InfluxQLVariantConfig() variants.DataqueryConfig {
	return variants.DataqueryConfig{
		Identifier: InfluxType,
		DataqueryUnmarshaler: func(raw []byte) (variants.Dataquery, error) {
			var q InfluxQL
			err := json.Unmarshal(raw, &q)
			return q, err
		},
		StrictDataqueryUnmarshaler: func(raw []byte) (variants.Dataquery, error) {
			var q InfluxQL
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			err := dec.Decode(&q)
			return q, err
		},
	}
}

// InfluxQLBuilder builds an InfluxQL target.
type InfluxQLBuilder struct{ q InfluxQL }

var _ cog.Builder[variants.Dataquery] = (*InfluxQLBuilder)(nil)

// NewInfluxQL returns a builder of a raw InfluxQL target on the chargewatch
// InfluxDB datasource, formatted as time series.
func NewInfluxQL(query string) *InfluxQLBuilder {
	return &InfluxQLBuilder{q: InfluxQL{RawQuery: true, Query: query, ResultFormat: "time_series", Datasource: influxRef()}}
}

// Build implements cog.Builder.
func (b *InfluxQLBuilder) Build() (variants.Dataquery, error) { return b.q, nil }

// RefID sets the target's refId.
func (b *InfluxQLBuilder) RefID(id string) *InfluxQLBuilder { b.q.RefID = id; return b }

// Table formats the result as a table.
func (b *InfluxQLBuilder) Table() *InfluxQLBuilder { b.q.ResultFormat = "table"; return b }

// Alias sets the series name pattern ($tag_unit, $col, ...).
func (b *InfluxQLBuilder) Alias(a string) *InfluxQLBuilder { b.q.Alias = a; return b }

// Annotation turns the target into an annotation query whose text, tags and
// title come from the named columns.
func (b *InfluxQLBuilder) Annotation(text, tags, title string) *InfluxQLBuilder {
	b.q.FromAnnotations = true
	b.q.QueryType = "tags"
	b.q.TextColumn, b.q.TagsColumn, b.q.TitleColumn = text, tags, title
	b.q.ResultFormat = ""
	return b
}

func influxRef() *common.DataSourceRef {
	t, u := InfluxType, InfluxUID
	return &common.DataSourceRef{Type: &t, Uid: &u}
}

func promRef() *common.DataSourceRef {
	t, u := PrometheusType, PrometheusUID
	return &common.DataSourceRef{Type: &t, Uid: &u}
}
