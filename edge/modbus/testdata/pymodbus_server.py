"""Modbus TCP server for cw-edge's interoperability test, built on pymodbus
(Debian package python3-pymodbus; run it with /usr/bin/python3).

It serves three devices whose registers are computed here with struct, not
with chargewatch code, so the test checks cw-edge's decoding against an
implementation nobody on the project wrote:
  unit 1  eastron-sdm120 input registers (float32, high word first)
  unit 2  acrel-adw300   holding registers (uint16 x0.1/x0.01, int32)
  unit 3  cw-monitor-v1  input registers (uint16, int16, int32, uint32)
Usage: pymodbus_server.py PORT
"""
import asyncio
import logging
import struct
import sys

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server import StartAsyncTcpServer


def f32(v):
    hi, lo = struct.unpack(">HH", struct.pack(">f", v))
    return [hi, lo]


def i32(v):
    hi, lo = struct.unpack(">HH", struct.pack(">i", v))
    return [hi, lo]


def u32(v):
    hi, lo = struct.unpack(">HH", struct.pack(">I", v))
    return [hi, lo]


def i16(v):
    return struct.unpack(">H", struct.pack(">h", v))[0]


def block(size, values):
    regs = [0] * size
    for addr, words in values.items():
        regs[addr:addr + len(words)] = words
    return ModbusSequentialDataBlock(0, regs)


def empty():
    return ModbusSequentialDataBlock(0, [0] * 4)


sdm120 = block(0x50, {
    0x00: f32(230.1), 0x06: f32(1.5), 0x0C: f32(345.2),
    0x1E: f32(0.98), 0x46: f32(50.0), 0x48: f32(1234.56),
})
adw300 = block(70, {
    20: [2301, 2302, 2303], 26: [150, 151, 152],
    30: i32(100) + i32(-200) + i32(300), 36: i32(-1234), 62: i32(123456),
})
monitor = block(16, {
    0: [305, i16(-125), 350, 402, 0, 2299, 123],
    7: i32(-50), 9: u32(3000000000), 11: [5002, i16(-950)],
})

slaves = {
    1: ModbusSlaveContext(di=empty(), co=empty(), hr=empty(), ir=sdm120, zero_mode=True),
    2: ModbusSlaveContext(di=empty(), co=empty(), hr=adw300, ir=empty(), zero_mode=True),
    3: ModbusSlaveContext(di=empty(), co=empty(), hr=empty(), ir=monitor, zero_mode=True),
}

logging.basicConfig(level=logging.ERROR)
asyncio.run(StartAsyncTcpServer(context=ModbusServerContext(slaves=slaves, single=False),
                                address=("127.0.0.1", int(sys.argv[1]))))
