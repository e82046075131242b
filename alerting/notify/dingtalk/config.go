package dingtalk

import (
	"errors"
	"fmt"
	"time"

	"github.com/chargewatch/chargewatch/alerting/notify/grouprobot"
)

// Config configures the DingTalk notifier (channels.dingtalk of the
// notification config).
//
//	dingtalk:
//	  timeout: 10s
//	  robots:
//	    - address: https://oapi.dingtalk.com/robot/send#c-my       # as in the registry
//	      access_token_file: /etc/chargewatch/dingtalk-c-my.token  # or access_token: env:NAME
//	      secret_file: /etc/chargewatch/dingtalk-c-my.secret       # the robot's 加签 secret (SEC...)
type Config struct {
	// Timeout bounds one request; default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// Robots give robot addresses their access token and signing secret.
	Robots []Robot `yaml:"robots"`
}

// Robot is a robot whose credentials are kept out of the registry.
type Robot struct {
	// Address is the contact address exactly as the registry has it.
	Address string `yaml:"address"`
	// AccessToken ("env:NAME") or AccessTokenFile: the robot's
	// access_token, unless the address has it.
	AccessToken     string `yaml:"access_token"`
	AccessTokenFile string `yaml:"access_token_file"`
	// Secret ("env:NAME") or SecretFile: the robot's signing secret; none
	// for robots secured by keywords or IP addresses only.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
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
		errs = append(errs, errors.New("dingtalk.timeout cannot be negative"))
	}
	seen := grouprobot.Addresses{}
	for i, r := range c.Robots {
		if err := seen.Check("dingtalk.robots", i, r.Address); err != nil {
			errs = append(errs, err)
		}
		if r.AccessToken == "" && r.AccessTokenFile == "" && r.Secret == "" && r.SecretFile == "" {
			errs = append(errs, fmt.Errorf("dingtalk.robots[%d]: give access_token(_file), secret(_file) or both", i))
		}
	}
	return errors.Join(errs...)
}
