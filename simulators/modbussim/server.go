package modbussim

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	mb "github.com/simonvetter/modbus"

	"github.com/chargewatch/chargewatch/devices"
)

// Config configures a Modbus TCP server.
type Config struct {
	Addr   string           // listen address, e.g. "127.0.0.1:1502"; port 0 picks a free port
	Units  []Unit           // devices behind the server, by unit id
	Now    func() time.Time // clock handed to the providers; time.Now if nil
	Logger *slog.Logger     // nil discards the server library's log lines
}

// Server is a Modbus TCP server with simulated devices behind unit ids, like
// a TCP meter (one unit) or an RS-485-to-TCP gateway (many).
type Server struct {
	cfg   Config
	units *units
	addr  string
	srv   *mb.ModbusServer

	mu    sync.Mutex
	delay map[uint8]time.Duration
}

// NewServer checks cfg and returns a server that is not started yet.
func NewServer(cfg Config) (*Server, error) {
	u, err := newUnits(cfg.Units, cfg.Now)
	if err != nil {
		return nil, err
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	return &Server{cfg: cfg, units: u, delay: map[uint8]time.Duration{}}, nil
}

// Start starts listening. With port 0 in the address it takes a free port;
// Addr tells which.
func (s *Server) Start() error {
	host, port, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("modbussim: listen address %q: %w", s.cfg.Addr, err)
	}
	logger := log.New(discard{}, "", 0)
	if s.cfg.Logger != nil {
		logger = slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug)
	}
	// github.com/simonvetter/modbus listens by itself and does not tell the port it got, so a
	// free port is picked here and taken again if someone else won the race for it.
	for attempt := 0; ; attempt++ {
		p := port
		if port == "0" {
			if p, err = freePort(host); err != nil {
				return err
			}
		}
		addr := net.JoinHostPort(host, p)
		srv, err := mb.NewServer(&mb.ServerConfiguration{
			URL: "tcp://" + addr, Timeout: 5 * time.Minute, MaxClients: 64, Logger: logger,
		}, handler{s})
		if err != nil {
			return fmt.Errorf("modbussim: %w", err)
		}
		err = srv.Start()
		if err == nil {
			s.srv, s.addr = srv, addr
			return nil
		}
		if port != "0" || attempt == 5 || !errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("modbussim: listening on %s: %w", addr, err)
		}
	}
}

// Run starts the server and serves until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	return s.Stop()
}

// Stop closes the listener and every client connection.
func (s *Server) Stop() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Stop()
}

// Addr is the host:port the server listens on, once started.
func (s *Server) Addr() string { return s.addr }

// Add adds a unit to a running server.
func (s *Server) Add(u Unit) error { return s.units.add(u) }

// SetDelay makes the unit answer d late (0 restores prompt answers): a slave
// that answers after the client's timeout leaves a stale response on the
// connection, which is how Modbus TCP clients lose track of transaction ids.
func (s *Server) SetDelay(unit uint8, d time.Duration) {
	s.mu.Lock()
	s.delay[unit] = d
	s.mu.Unlock()
}

// Served returns the readings of the unit's last answered request and the
// number of requests it received.
func (s *Server) Served(unit uint8) ([]devices.Reading, int) { return s.units.served(unit) }

func (s *Server) read(unit, fc uint8, addr, qty uint16) ([]uint16, error) {
	s.mu.Lock()
	d := s.delay[unit]
	s.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
	regs, err := s.units.read(unit, fc, addr, qty)
	switch {
	case errors.Is(err, ErrNoUnit):
		return nil, mb.ErrGWTargetFailedToRespond
	case errors.Is(err, ErrIllegalFunc):
		return nil, mb.ErrIllegalFunction
	case errors.Is(err, ErrIllegalAddress):
		return nil, mb.ErrIllegalDataAddress
	case err != nil:
		return nil, mb.ErrServerDeviceFailure
	}
	return regs, nil
}

// handler adapts Server to github.com/simonvetter/modbus.RequestHandler.
type handler struct{ s *Server }

func (h handler) HandleCoils(*mb.CoilsRequest) ([]bool, error) { return nil, mb.ErrIllegalFunction }

func (h handler) HandleDiscreteInputs(*mb.DiscreteInputsRequest) ([]bool, error) {
	return nil, mb.ErrIllegalFunction
}

func (h handler) HandleHoldingRegisters(req *mb.HoldingRegistersRequest) ([]uint16, error) {
	if req.IsWrite {
		return nil, mb.ErrIllegalFunction
	}
	return h.s.read(req.UnitId, 3, req.Addr, req.Quantity)
}

func (h handler) HandleInputRegisters(req *mb.InputRegistersRequest) ([]uint16, error) {
	return h.s.read(req.UnitId, 4, req.Addr, req.Quantity)
}

func freePort(host string) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("modbussim: no free port on %s: %w", host, err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
