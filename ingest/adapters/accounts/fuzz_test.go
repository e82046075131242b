package accounts

import (
	"strings"
	"testing"
)

// FuzzParse: hostile adapter account files give a clear error or accounts
// that build into a router, never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"",
		"accounts:\n  - username: plug-1\n    gateway: gw-1\n    tasmota:\n      devices: {athom: plug-1}\n",
		"accounts:\n  - username: z2m\n    gateway: gw-1\n    zigbee2mqtt:\n      base_topic: zigbee2mqtt\n      devices: {\"0x00158d\": smk-1}\n",
		"accounts:\n  - username: tb\n    gateway: gw\n    thingsboard:\n      topic_prefix: a/#/\n",
		"accounts:\n  - {username: a, gateway: g, tasmota: {}, shelly: {}}\n",
		"accounts: [{username: \"\"}]\n",
		"accounts:\n  - username: x\n    gateway: y\n    shelly:\n      devices: {p: {\"switch:9\": d}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("adapters.yaml", data)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if _, err := file.Build(); err != nil && strings.TrimSpace(err.Error()) == "" {
			t.Fatal("empty build error")
		}
		file.ACL()
	})
}
