package registry

// Rosters are written in Asia/Shanghai time; embed the zone database so the
// zone loads on minimal images without /usr/share/zoneinfo (about 450 KB).
import _ "time/tzdata"
