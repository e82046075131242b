package registry

import (
	"fmt"
	"strings"
	"time"
)

// UnitType is what a unit is used for.
type UnitType uint8

// Unit types. A unit whose use mixes living and business ("three-in-one",
// 三合一: living, trading and storing or making in one place) keeps its main
// type and sets MixedUse.
const (
	UnitUnknown      UnitType = iota
	UnitResidential           // 住宅: a flat or a rented room
	UnitShop                  // 商铺: a shop or a small restaurant
	UnitWorkshop              // 作坊/仓储: a workshop or a storeroom
	UnitChargingRoom          // 集中充电间: a designated charging room
	numUnitTypes
)

var unitTypeNames = [numUnitTypes]string{"", "residential", "shop", "workshop", "charging_room"}

func (t UnitType) String() string {
	if t < numUnitTypes {
		return unitTypeNames[t]
	}
	return fmt.Sprintf("unit_type(%d)", uint8(t))
}

// ParseUnitType parses a unit type's site-file name.
func ParseUnitType(s string) (UnitType, bool) {
	for t := UnitResidential; t < numUnitTypes; t++ {
		if unitTypeNames[t] == s {
			return t, true
		}
	}
	return UnitUnknown, false
}

// Role is what a person does in the escalation ladder or the user interface.
type Role uint8

// Roles.
const (
	RoleGridWorker      Role = iota // 网格员: first responder for the communities of their grid
	RoleStreetOfficer               // 街道: officer of a street (town)
	RoleDistrictOfficer             // 区: officer of a district
	RoleFireBrigade                 // 消防: fire brigade contact
	RoleViewer                      // read-only user
	RoleAdmin                       // manages the registry
	numRoles
)

var roleNames = [numRoles]string{"grid_worker", "street_officer", "district_officer", "fire_brigade", "viewer", "admin"}

func (r Role) String() string {
	if r < numRoles {
		return roleNames[r]
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// ParseRole parses a role's site-file name.
func ParseRole(s string) (Role, bool) {
	for r := Role(0); r < numRoles; r++ {
		if roleNames[r] == s {
			return r, true
		}
	}
	return 0, false
}

// RoleSet is a set of roles as a bit mask.
type RoleSet uint8

// Has reports whether r is in the set.
func (s RoleSet) Has(r Role) bool { return s&(1<<r) != 0 }

// With returns the set with r added.
func (s RoleSet) With(r Role) RoleSet { return s | 1<<r }

// Roles returns the roles in the set in their declared order.
func (s RoleSet) Roles() []Role {
	var out []Role
	for r := Role(0); r < numRoles; r++ {
		if s.Has(r) {
			out = append(out, r)
		}
	}
	return out
}

func (s RoleSet) String() string {
	var b strings.Builder
	for _, r := range s.Roles() {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r.String())
	}
	return b.String()
}

// ContactChannel is how a person is reached.
type ContactChannel uint8

// Contact channels.
const (
	ChannelUnknown  ContactChannel = iota
	ChannelSMS                     // address: a phone number, e.g. 13800000001 or +8613800000001
	ChannelWebhook                 // address: an http(s) URL that receives a JSON POST
	ChannelWeCom                   // address: a WeCom (企业微信) group robot webhook URL
	ChannelDingTalk                // address: a DingTalk (钉钉) group robot webhook URL
	ChannelEmail                   // address: an e-mail address
	numChannels
)

var channelNames = [numChannels]string{"", "sms", "webhook", "wecom", "dingtalk", "email"}

func (c ContactChannel) String() string {
	if c < numChannels {
		return channelNames[c]
	}
	return fmt.Sprintf("channel(%d)", uint8(c))
}

// ParseContactChannel parses a contact channel's site-file name.
func ParseContactChannel(s string) (ContactChannel, bool) {
	for c := ChannelSMS; c < numChannels; c++ {
		if channelNames[c] == s {
			return c, true
		}
	}
	return ChannelUnknown, false
}

// Locales a person can have; messages to them are written in it.
const (
	LocaleZH = "zh"
	LocaleEN = "en"
)

// Weekdays is a set of days of the week as a bit mask: bit i is
// time.Weekday(i), so bit 0 is Sunday (as SQLite's strftime('%w')).
type Weekdays uint8

// EveryDay holds all seven days.
const EveryDay Weekdays = 1<<7 - 1

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Has reports whether d is in the set.
func (w Weekdays) Has(d time.Weekday) bool { return w&(1<<d) != 0 }

// With returns the set with d added.
func (w Weekdays) With(d time.Weekday) Weekdays { return w | 1<<d }

// String lists the days Monday first, e.g. "mon,tue,sat", or "every day".
func (w Weekdays) String() string {
	if w == EveryDay {
		return "every day"
	}
	var b strings.Builder
	for i := 1; i <= 7; i++ {
		d := time.Weekday(i % 7)
		if w.Has(d) {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(dayNames[d])
		}
	}
	return b.String()
}

// ParseWeekday parses a day's site-file name: mon, tue, wed, thu, fri, sat, sun.
func ParseWeekday(s string) (time.Weekday, bool) {
	for i, n := range dayNames {
		if n == s {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// TimeOfDay is a wall-clock time in minutes after midnight, 0 to 1440
// (1440 is "24:00" and only ends a window).
type TimeOfDay int16

// ParseTimeOfDay parses "HH:MM" (00:00 to 24:00).
func ParseTimeOfDay(s string) (TimeOfDay, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return TimeOfDay(h*60 + m), true
}

func (t TimeOfDay) String() string {
	return fmt.Sprintf("%02d:%02d", t/60, t%60)
}

// shanghai is the zone that duty rosters are written in and that times are
// shown in. The binary embeds tzdata (see tzdata.go), so the lookup only
// fails on a broken build; the fixed zone is the same offset (China has had
// no daylight saving time since 1991).
var shanghai = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// Shanghai returns the Asia/Shanghai time zone.
func Shanghai() *time.Location { return shanghai }

// fmtDuration prints a duration without zero tails: 1m, not 1m0s; 24h, not
// 24h0m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
