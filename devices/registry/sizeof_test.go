package registry

import "unsafe"

func unsafeSizeof(d Device) uintptr { return unsafe.Sizeof(d) }
