package modbus

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/edge/profile"
)

func describe(blocks []Block) string {
	var parts []string
	for _, b := range blocks {
		parts = append(parts, fmt.Sprintf("%02d:0x%04X+%d(%d)", b.Function, b.Start, b.Count, len(b.Items)))
	}
	return strings.Join(parts, " ")
}

func TestPlan(t *testing.T) {
	cases := []struct {
		profile  string
		ports    int
		maxBlock int
		want     string
	}{
		// V, I, P, Q are adjacent; PF, Hz and energy stand alone (max_gap 0).
		{"chint-ddsu666", 1, 0, "03:0x2000+8(4) 03:0x200A+2(1) 03:0x200E+2(1) 03:0x4000+2(1)"},
		{"chint-ddsu666", 1, 4, "03:0x2000+4(2) 03:0x2004+4(2) 03:0x200A+2(1) 03:0x200E+2(1) 03:0x4000+2(1)"},
		{"eastron-sdm120", 1, 0, "04:0x0000+2(1) 04:0x0006+2(1) 04:0x000C+2(1) 04:0x001E+2(1) 04:0x0046+4(2)"},
		// max_gap 16 joins the per-phase values, and the totals from 0x34 to 0x49; the 34
		// registers between 0x12 and 0x34 are too many.
		{"eastron-sdm630", 1, 0, "04:0x0000+18(9) 04:0x0034+22(5)"},
		{"acrel-adw300", 1, 0, "03:0x0014+18(10) 03:0x003E+2(1)"},
		{"cw-monitor-v1", 1, 0, "04:0x0000+13(11)"},
		// 16 registers per port, the last 6 reserved: 8 ports fit 125 registers (8*16-6 = 122).
		{"cw-pile-v1", 10, 0, "04:0x1000+122(64) 04:0x1080+26(16)"},
		{"cw-pile-v1", 1, 0, "04:0x1000+10(8)"},
		{"cw-pile-v1", 16, 0, "04:0x1000+122(64) 04:0x1080+122(64)"},
	}
	for _, c := range cases {
		got := describe(Plan(profile.MustLoad(c.profile), c.ports, c.maxBlock))
		if got != c.want {
			t.Errorf("Plan(%s, %d ports, max %d)\n got %s\nwant %s", c.profile, c.ports, c.maxBlock, got, c.want)
		}
	}
}

// Every block stays within the protocol limit and every register is read once.
func TestPlanLimits(t *testing.T) {
	for _, name := range profile.Names() {
		p := profile.MustLoad(name)
		ports := p.PortCount(0)
		if p.Ports != nil {
			ports = p.Ports.Max
		}
		for _, maxBlock := range []int{0, 2, 3, 10} {
			n := 0
			for _, b := range Plan(p, ports, maxBlock) {
				limit := profile.MaxRegisters
				if maxBlock > 0 {
					limit = maxBlock
				}
				if b.Count < 1 || int(b.Count) > limit {
					t.Errorf("%s: block of %d registers (limit %d)", name, b.Count, limit)
				}
				for _, it := range b.Items {
					if int(it.Offset)+it.Reg.Words() > int(b.Count) {
						t.Errorf("%s: item %s runs past its block", name, it.Reg.Field)
					}
				}
				n += len(b.Items)
			}
			if n != len(p.Registers)*ports {
				t.Errorf("%s: %d items planned, want %d", name, n, len(p.Registers)*ports)
			}
		}
	}
}

func TestFrameGap(t *testing.T) {
	if g := frameGap(9600); g < 4*1e6 || g > 4.1*1e6 {
		t.Errorf("frameGap(9600) = %v, want about 4 ms", g)
	}
	if g := frameGap(115200); g != 1750*1e3 {
		t.Errorf("frameGap(115200) = %v", g)
	}
}
