package wecom

import (
	"errors"
	"fmt"
	"time"

	"github.com/chargewatch/chargewatch/alerting/notify/grouprobot"
)

// Config configures the WeCom notifier (channels.wecom of the
// notification config).
//
//	wecom:
//	  timeout: 10s
//	  robots:
//	    - address: https://qyapi.weixin.qq.com/cgi-bin/webhook/send#c-dt   # as in the registry
//	      key_file: /etc/chargewatch/wecom-c-dt.key                         # or key: env:CW_WECOM_C_DT
type Config struct {
	// Timeout bounds one request; default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// Robots give robot addresses their key.
	Robots []Robot `yaml:"robots"`
}

// Robot is a robot whose key is kept out of the registry.
type Robot struct {
	// Address is the contact address exactly as the registry has it.
	Address string `yaml:"address"`
	// Key ("env:NAME") or KeyFile (a path, mode 0600) holds the robot's key.
	Key     string `yaml:"key"`
	KeyFile string `yaml:"key_file"`
}

// DefaultTimeout bounds one request unless configured.
const DefaultTimeout = 10 * time.Second

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// Validate checks the config without loading secrets.
func (c *Config) Validate() error {
	var errs []error
	if c.Timeout < 0 {
		errs = append(errs, errors.New("wecom.timeout cannot be negative"))
	}
	seen := grouprobot.Addresses{}
	for i, r := range c.Robots {
		if err := seen.Check("wecom.robots", i, r.Address); err != nil {
			errs = append(errs, err)
		}
		if r.Key == "" && r.KeyFile == "" {
			errs = append(errs, fmt.Errorf("wecom.robots[%d]: key or key_file is required", i))
		}
	}
	return errors.Join(errs...)
}
