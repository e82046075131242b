package modbus

import (
	"sort"

	"github.com/chargewatch/chargewatch/edge/profile"
)

// Block is one read request: Count registers from Start with Function,
// holding the values of Items.
type Block struct {
	Function uint8
	Start    uint16
	Count    uint16
	Items    []Item
}

// Item is one register value inside a block.
type Item struct {
	Reg    *profile.Register
	Port   int    // 1-based; 1 for single-port devices
	Offset uint16 // registers from the block's start
}

// Plan groups the registers of profile p, for ports ports, into as few read
// requests as possible: registers of one function code whose addresses are
// contiguous (or at most p.MaxGap unmapped registers apart) share a request
// of at most maxBlock registers (0 or more than 125 means 125).
func Plan(p *profile.Profile, ports int, maxBlock int) []Block {
	if maxBlock <= 0 || maxBlock > int(p.MaxBlock) {
		maxBlock = int(p.MaxBlock)
	}
	type ref struct {
		fc   uint8
		addr uint16
		reg  *profile.Register
		port int
	}
	var refs []ref
	for port := 1; port <= ports; port++ {
		for i := range p.Registers {
			r := &p.Registers[i]
			refs = append(refs, ref{r.Function, p.Address(r, port), r, port})
		}
	}
	sort.Slice(refs, func(i, j int) bool {
		if refs[i].fc != refs[j].fc {
			return refs[i].fc < refs[j].fc
		}
		return refs[i].addr < refs[j].addr
	})
	var blocks []Block
	for _, x := range refs {
		words := x.reg.Words()
		if n := len(blocks); n > 0 {
			b := &blocks[n-1]
			end := int(b.Start) + int(b.Count) // first address after the block
			if b.Function == x.fc && int(x.addr)-end <= int(p.MaxGap) && int(x.addr)+words-int(b.Start) <= maxBlock {
				b.Count = uint16(int(x.addr) + words - int(b.Start))
				b.Items = append(b.Items, Item{x.reg, x.port, x.addr - b.Start})
				continue
			}
		}
		blocks = append(blocks, Block{Function: x.fc, Start: x.addr, Count: uint16(words), Items: []Item{{x.reg, x.port, 0}}})
	}
	return blocks
}
