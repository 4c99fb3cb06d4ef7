package client

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
)

// maxTokenFile bounds what a --token-file may hold.
const maxTokenFile = 64 << 10

// Endpoint is the one rule for how a CLI command names a server (query,
// search, posture, export --server; push; watch): server must be an
// http:// or https:// URL with a host; the token comes from tokenFile
// when given (trimmed; empty is an error), else from the MODELGRAPH_TOKEN
// variable getenv reads. Sending a token over plain http to a host that is
// not this machine is allowed, with a warning on warn (nil: no warning).
// base is the URL without a trailing slash.
func Endpoint(server, tokenFile string, getenv func(string) string, warn io.Writer) (base, token string, err error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("--server %q: want an http:// or https:// URL", server)
	}
	token = getenv("MODELGRAPH_TOKEN")
	if tokenFile != "" {
		b, err := readTokenFile(tokenFile)
		if err != nil {
			return "", "", fmt.Errorf("--token-file: %w", err)
		}
		if token = strings.TrimSpace(string(b)); token == "" {
			return "", "", fmt.Errorf("--token-file %s is empty", tokenFile)
		}
	}
	if u.Scheme == "http" && token != "" && !loopback(u.Hostname()) && warn != nil {
		fmt.Fprintf(warn, "warning: sending the API token over plain http to %s\n", u.Host)
	}
	return strings.TrimRight(u.String(), "/"), token, nil
}

func readTokenFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxTokenFile {
		return nil, errors.New(path + ": larger than 64 KiB: not a token file")
	}
	return b, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
