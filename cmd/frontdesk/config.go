package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// settings resolves configuration in order of precedence: a flag given on
// the command line, its FRONTDESK_* environment twin, the YAML config
// file, the default. Every setting is a string flag so that "not given"
// can be told from "given the default".
type settings struct {
	fs       *flag.FlagSet
	defaults map[string]string
	yaml     map[string]string
	explicit map[string]bool
}

func newSettings(fs *flag.FlagSet) *settings {
	return &settings{fs: fs, defaults: map[string]string{}, yaml: map[string]string{}, explicit: map[string]bool{}}
}

// add declares a setting with a default and a usage line.
func (s *settings) add(name, def, usage string) {
	s.defaults[name] = def
	switch {
	case strings.Contains(usage, "(default"):
		// The usage says what the default is in words.
		usage = fmt.Sprintf("%s (env %s)", usage, envName(name))
	case def == "":
		usage = fmt.Sprintf("%s (default none; env %s)", usage, envName(name))
	default:
		usage = fmt.Sprintf("%s (default %s; env %s)", usage, def, envName(name))
	}
	s.fs.String(name, "", usage)
}

// addBool declares a setting that is false unless given: "--json" alone
// means true, and "--json=false" or FRONTDESK_JSON=false also work.
func (s *settings) addBool(name, usage string) {
	s.defaults[name] = "false"
	s.fs.Var(&boolString{s: "false"}, name, fmt.Sprintf("%s (env %s)", usage, envName(name)))
}

// boolString is a flag.Value that may be given without a value, like a
// flag.Bool, but keeps its text so that settings can read every flag as
// a string.
type boolString struct{ s string }

func (b *boolString) String() string {
	if b == nil || b.s == "" {
		return "false"
	}
	return b.s
}
func (b *boolString) Set(v string) error {
	if _, err := strconv.ParseBool(v); err != nil {
		return fmt.Errorf("%q is not true or false", v)
	}
	b.s = v
	return nil
}
func (b *boolString) IsBoolFlag() bool { return true }

// parse parses the command line and, if the command has a config setting
// and a config file is named (by flag or environment), reads it. YAML
// keys are the flag names with '-' or '_'; lists are joined with commas.
func (s *settings) parse(args []string) ([]string, error) {
	pos, err := parseFlags(s.fs, args)
	if err != nil {
		return nil, err
	}
	s.fs.Visit(func(f *flag.Flag) { s.explicit[f.Name] = true })
	if _, ok := s.defaults["config"]; !ok {
		return pos, nil
	}
	if file := s.get("config"); file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		var raw map[string]any
		if err := yaml.Unmarshal(data, &raw); err != nil {
			return nil, fmt.Errorf("config %s: %w", file, err)
		}
		for k, v := range raw {
			name := strings.ReplaceAll(k, "_", "-")
			if _, ok := s.defaults[name]; !ok {
				return nil, fmt.Errorf("config %s: unknown setting %q", file, k)
			}
			switch v := v.(type) {
			case []any:
				var parts []string
				for _, p := range v {
					parts = append(parts, fmt.Sprint(p))
				}
				s.yaml[name] = strings.Join(parts, ",")
			case nil:
			default:
				s.yaml[name] = fmt.Sprint(v)
			}
		}
	}
	return pos, nil
}

// get returns the resolved value of a setting.
func (s *settings) get(name string) string {
	if s.explicit[name] {
		return s.fs.Lookup(name).Value.String()
	}
	if v, ok := os.LookupEnv(envName(name)); ok {
		return v
	}
	if v, ok := s.yaml[name]; ok {
		return v
	}
	return s.defaults[name]
}

// list returns a comma-separated setting as a list.
func (s *settings) list(name string) []string {
	return splitList(s.get(name))
}

// float returns a setting as a number.
func (s *settings) float(name string) (float64, error) {
	v := s.get(name)
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, usageError{fmt.Sprintf("%s: %q is not a number", name, v)}
	}
	return f, nil
}

// integer returns a setting as a whole number.
func (s *settings) integer(name string) (int, error) {
	v := s.get(name)
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, usageError{fmt.Sprintf("%s: %q is not a whole number", name, v)}
	}
	return n, nil
}

// duration returns a setting as a duration such as 30s or 2m.
func (s *settings) duration(name string) (time.Duration, error) {
	v := s.get(name)
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, usageError{fmt.Sprintf("%s: %q is not a duration such as 30s", name, v)}
	}
	return d, nil
}

// boolean returns a setting declared with addBool.
func (s *settings) boolean(name string) (bool, error) {
	v := s.get(name)
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, usageError{fmt.Sprintf("%s: %q is not true or false", name, v)}
	}
	return b, nil
}
