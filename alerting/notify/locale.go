package notify

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/devices"
)

// Locales messages are written in.
const (
	LocaleZH = "zh"
	LocaleEN = "en"
)

// words is one locale's vocabulary: the parts of a message that are not
// layout (the layout is in templates/<locale>.tmpl).
type words struct {
	hazard   map[alerting.Rule]string
	severity [5]string
	targets  map[string]string
	fields   map[string]string // reading fields: name without unit
	events   map[string]string
	kinds    map[string]string // device kinds
	states   map[alerting.State]string
	room     func(string) string
	duration func(time.Duration) string
	list     string // separator of a list
	colon    string
}

var zh = &words{
	hazard: map[alerting.Rule]string{
		alerting.RuleIndoorCharging:  "电动自行车室内充电",
		alerting.RuleOverload:        "线路过载",
		alerting.RulePortOverload:    "充电端口过载",
		alerting.RuleResidualCurrent: "剩余电流（漏电）超限",
		alerting.RuleOverTemperature: "线路温度过高",
		alerting.RuleOverVoltage:     "电压过高",
		alerting.RuleUnderVoltage:    "电压过低",
		alerting.RuleArcFault:        "故障电弧",
		alerting.RulePhaseLoss:       "缺相",
		alerting.RulePileFault:       "充电桩故障",
		alerting.RulePortOverTemp:    "充电端口温度过高",
		alerting.RuleLongSession:     "充电时间过长",
		alerting.RuleNoTaper:         "充电功率长时间不下降",
		alerting.RuleSmoke:           "烟感报警",
		alerting.RuleTamper:          "探测器被拆除或打开",
		alerting.RuleLowBattery:      "探测器电量低",
		alerting.RuleDeviceFault:     "设备故障",
		alerting.RuleDeviceOffline:   "设备离线",
		alerting.RuleGatewayOffline:  "网关离线",
		alerting.RuleAreaOutage:      "区域性设备离线（疑似停电或断网）",
	},
	severity: [5]string{"", "提示", "警告", "严重", "紧急"},
	targets: map[string]string{
		"grid_worker": "网格员", "street_officer": "街道值班人员", "district_officer": "区值班人员",
		"fire_brigade": "消防救援站", "people": "指定人员",
	},
	fields: map[string]string{
		"power_w": "功率", "current_a": "电流", "voltage_v": "电压", "leak_ma": "剩余电流", "temp_c": "温度",
		"temp1_c": "温度1", "temp2_c": "温度2", "temp3_c": "温度3", "temp4_c": "温度4", "pf": "功率因数",
		"battery_pct": "电量", "freq_hz": "频率",
		"smoke": "烟雾", "battery_low": "电量低", "tamper": "防拆", "fault": "故障", "relay_on": "继电器闭合",
		"rssi_dbm": "信号强度", "link_quality": "链路质量",
		// evidence of the charging detector
		"base_w": "充电前功率", "step_w": "功率阶跃", "confidence": "置信度",
	},
	events: map[string]string{
		"smoke_alarm": "烟感报警", "smoke_clear": "烟感恢复", "tamper": "防拆报警", "fault": "故障", "low_battery": "电量低",
		"self_test": "自检", "charge_start": "开始充电", "charge_stop": "停止充电", "arc_fault": "故障电弧",
		"phase_loss": "缺相", "over_voltage": "过压", "under_voltage": "欠压",
	},
	kinds:  map[string]string{"meter": "电表", "monitor": "电气火灾监控探测器", "pile": "充电桩", "smoke": "烟感", "plug": "智能插座"},
	states: map[alerting.State]string{alerting.StateFiring: "未确认", alerting.StateAcknowledged: "已确认", alerting.StateResolved: "已恢复", alerting.StateClosed: "已结案"},
	room: func(s string) string {
		if isRoomNumber(s) {
			return s + "室"
		}
		return s
	},
	duration: func(d time.Duration) string {
		days, h, m := split(d)
		switch {
		case days > 0:
			return fmt.Sprintf("%d天%d小时", days, h)
		case h > 0:
			return fmt.Sprintf("%d小时%d分钟", h, m)
		case m > 0:
			return fmt.Sprintf("%d分钟", m)
		}
		return "不到1分钟"
	},
	list:  "；",
	colon: "：",
}

var en = &words{
	hazard: map[alerting.Rule]string{
		alerting.RuleIndoorCharging:  "E-bike charging indoors",
		alerting.RuleOverload:        "Circuit overload",
		alerting.RulePortOverload:    "Charging port overload",
		alerting.RuleResidualCurrent: "Residual (leakage) current",
		alerting.RuleOverTemperature: "Over-temperature",
		alerting.RuleOverVoltage:     "Over-voltage",
		alerting.RuleUnderVoltage:    "Under-voltage",
		alerting.RuleArcFault:        "Arc fault",
		alerting.RulePhaseLoss:       "Phase loss",
		alerting.RulePileFault:       "Charging pile fault",
		alerting.RulePortOverTemp:    "Charging port over-temperature",
		alerting.RuleLongSession:     "Charging session too long",
		alerting.RuleNoTaper:         "Charging power never tapers",
		alerting.RuleSmoke:           "SMOKE ALARM",
		alerting.RuleTamper:          "Detector removed or opened",
		alerting.RuleLowBattery:      "Detector battery low",
		alerting.RuleDeviceFault:     "Device fault",
		alerting.RuleDeviceOffline:   "Device offline",
		alerting.RuleGatewayOffline:  "Gateway offline",
		alerting.RuleAreaOutage:      "Area outage (many gateways offline)",
	},
	severity: [5]string{"", "INFO", "WARNING", "MAJOR", "CRITICAL"},
	targets: map[string]string{
		"grid_worker": "grid worker", "street_officer": "street duty officer", "district_officer": "district duty officer",
		"fire_brigade": "fire brigade", "people": "named people",
	},
	fields: map[string]string{
		"power_w": "power", "current_a": "current", "voltage_v": "voltage", "leak_ma": "residual current", "temp_c": "temperature",
		"temp1_c": "temperature 1", "temp2_c": "temperature 2", "temp3_c": "temperature 3", "temp4_c": "temperature 4",
		"pf": "power factor", "battery_pct": "battery", "freq_hz": "frequency",
		"smoke": "smoke", "battery_low": "battery low", "tamper": "tamper", "fault": "fault", "relay_on": "relay on",
		"rssi_dbm": "signal", "link_quality": "link quality",
		// evidence of the charging detector
		"base_w": "power before", "step_w": "step", "confidence": "confidence",
	},
	events: map[string]string{
		"smoke_alarm": "smoke alarm", "smoke_clear": "smoke cleared", "tamper": "tamper", "fault": "fault", "low_battery": "low battery",
		"self_test": "self-test", "charge_start": "charging started", "charge_stop": "charging stopped", "arc_fault": "arc fault",
		"phase_loss": "phase loss", "over_voltage": "over-voltage", "under_voltage": "under-voltage",
	},
	kinds:  map[string]string{"meter": "meter", "monitor": "electrical-fire monitor", "pile": "charging pile", "smoke": "smoke detector", "plug": "smart plug"},
	states: map[alerting.State]string{alerting.StateFiring: "not acknowledged", alerting.StateAcknowledged: "acknowledged", alerting.StateResolved: "resolved", alerting.StateClosed: "closed"},
	room: func(s string) string {
		if isRoomNumber(s) {
			return "room " + s
		}
		return s
	},
	duration: func(d time.Duration) string {
		days, h, m := split(d)
		switch {
		case days > 0:
			return fmt.Sprintf("%d d %d h", days, h)
		case h > 0:
			return fmt.Sprintf("%d h %d min", h, m)
		case m > 0:
			return fmt.Sprintf("%d min", m)
		}
		return "under a minute"
	},
	list:  "; ",
	colon: ": ",
}

func wordsFor(locale string) *words {
	if locale == LocaleEN {
		return en
	}
	return zh
}

func split(d time.Duration) (days, hours, minutes int) {
	if d < 0 {
		d = 0
	}
	m := int(d / time.Minute)
	return m / 1440, m / 60 % 24, m % 60
}

func isRoomNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '-' && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

// Hazard returns the name of a rule's hazard in a locale.
func Hazard(locale string, r alerting.Rule) string {
	if s, ok := wordsFor(locale).hazard[r]; ok {
		return s
	}
	return string(r)
}

// SeverityName returns a severity's name in a locale.
func SeverityName(locale string, s alerting.Severity) string {
	w := wordsFor(locale)
	if int(s) < len(w.severity) && s > 0 {
		return w.severity[s]
	}
	return s.String()
}

// Duration formats a duration in a locale, to the minute.
func Duration(locale string, d time.Duration) string { return wordsFor(locale).duration(d) }

// number formats a measured value briefly.
func number(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "?"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.4g", v), ".0")
}

// fieldName splits a reading field into its name and unit: power_w is
// power in W.
func (w *words) field(name string, v float64) string {
	unit := ""
	base := name
	for suf, u := range map[string]string{"_w": "W", "_a": "A", "_v": "V", "_ma": "mA", "_c": "°C", "_pct": "%", "_hz": "Hz", "_kwh": "kWh"} {
		if strings.HasSuffix(name, suf) {
			unit = u
			break
		}
	}
	if n, ok := w.fields[base]; ok {
		name = n
	}
	if base == "confidence" { // 0-1, shown as a percentage
		return name + " " + number(math.Round(v*100)) + "%"
	}
	if f, ok := devices.FieldByName(base); ok && f.Spec().Type == devices.TypeBool {
		return name + " " + w.pick(map[bool]string{true: "是", false: "否"}[v != 0], map[bool]string{true: "yes", false: "no"}[v != 0])
	}
	if unit == "" {
		return name + " " + number(v)
	}
	return name + " " + number(v) + " " + unit
}

// chargePath words how the charging detector confirmed a charge (the code
// of its evidence, e.g. "fast" or "rise (var)"); unknown paths are shown as
// they are.
func (w *words) chargePath(code string) string {
	base, onVar := strings.CutSuffix(code, " (var)")
	zhs := map[string]string{
		"fast": "稳定阶跃快速确认", "fast, known charger": "已知充电器快速确认", "outlasted a cycler": "持续时间超过周期性负载",
		"rise": "功率随电池电压缓升", "quiet later": "长时间稳定", "known charger": "已知充电器", "taper": "充电末段功率下降",
	}
	ens := map[string]string{
		"fast": "a steady step, confirmed fast", "fast, known charger": "a known charger, confirmed fast", "outlasted a cycler": "outlasted the cycling loads",
		"rise": "power rising with the pack voltage", "quiet later": "steady for long", "known charger": "a known charger", "taper": "the end-of-charge taper",
	}
	t, ok := zhs[base]
	if w == en {
		t, ok = ens[base]
	}
	if !ok {
		return code
	}
	if onVar {
		t += w.pick("（无功功率）", " (non-active power)")
	}
	return t
}
