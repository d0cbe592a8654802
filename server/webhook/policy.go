package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrForbidden is wrapped by every refusal of the endpoint policy.
var ErrForbidden = errors.New("webhook: endpoint address not allowed")

// Policy decides which endpoints a delivery may reach (docs/DESIGN.md §11):
// https to a public address, nothing else by default. It is checked on the
// URL when an endpoint is registered and again on the address actually
// dialled (Control), after name resolution, so a name that resolves to the
// operator's network, now or after a DNS change, is refused before any
// packet leaves. Deliveries follow no redirect.
type Policy struct {
	// AllowLoopback is for development: endpoints on this machine
	// (127.0.0.0/8, ::1, "localhost"), over http as well as https.
	AllowLoopback bool
	// AllowPrivate lets an admin deliver into private networks he names
	// explicitly on the command line: RFC 1918, unique local IPv6
	// (fc00::/7) and shared address space (100.64.0.0/10). Link-local,
	// cloud metadata, unspecified, multicast and reserved addresses stay
	// refused.
	AllowPrivate bool
}

// Ranges the policy sorts addresses into. The embedded IPv4 address of a
// mapped, NAT64 or 6to4 IPv6 address is judged as IPv4.
var (
	metadataAddrs = []netip.Addr{
		netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack, …
		netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
		netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	}
	neverPrefixes = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
		netip.MustParsePrefix("169.254.0.0/16"), // link-local
		netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and broadcast
		netip.MustParsePrefix("::/96"),          // unspecified, IPv4-compatible
		netip.MustParsePrefix("fe80::/10"),      // link-local
		netip.MustParsePrefix("fec0::/10"),      // site-local, deprecated
	}
	privatePrefixes = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("100.64.0.0/10"), // shared address space (carrier NAT)
		netip.MustParsePrefix("fc00::/7"),      // unique local
	}
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16")
)

// CheckURL refuses an endpoint URL the policy does not allow: not absolute
// http(s), with a fragment, http to anything but loopback, or a literal
// address the policy refuses. A host name passes here; its addresses are
// checked when a delivery dials them.
func (p Policy) CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrForbidden, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("%w: %q: the scheme is https (or http to loopback in development)", ErrForbidden, raw)
	}
	host := u.Hostname()
	if host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%w: %q has no host", ErrForbidden, raw)
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return nil, fmt.Errorf("%w: %q has a fragment", ErrForbidden, raw)
	}
	if port := u.Port(); port == "0" {
		return nil, fmt.Errorf("%w: %q: port 0", ErrForbidden, raw)
	}
	addr, literal := parseHost(host)
	local := isLocalName(host)
	if u.Scheme == "http" && !(local || literal && addr.IsLoopback()) {
		return nil, fmt.Errorf("%w: %q: http only to loopback, in development; use https", ErrForbidden, raw)
	}
	if literal {
		if err := p.checkAddr(addr); err != nil {
			return nil, err
		}
	} else if local && !p.AllowLoopback {
		return nil, fmt.Errorf("%w: %q is this machine", ErrForbidden, host)
	}
	return u, nil
}

// parseHost reads a literal IPv4 or IPv6 address (with a zone, if any,
// kept so that checkAddr refuses it).
func parseHost(host string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(host)
	return a, err == nil
}

// isLocalName reports the names that always mean this machine.
func isLocalName(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// checkAddr is the rule on one address.
func (p Policy) checkAddr(a netip.Addr) error {
	if a.Zone() != "" {
		return fmt.Errorf("%w: %s: an address with a zone", ErrForbidden, a)
	}
	a = embeddedIPv4(a)
	switch {
	case a.IsLoopback():
		if p.AllowLoopback {
			return nil
		}
		return fmt.Errorf("%w: %s is loopback", ErrForbidden, a)
	case a.IsUnspecified():
		return fmt.Errorf("%w: %s is unspecified", ErrForbidden, a)
	case a.IsMulticast():
		return fmt.Errorf("%w: %s is multicast", ErrForbidden, a)
	}
	for _, m := range metadataAddrs {
		if a == m {
			return fmt.Errorf("%w: %s is a cloud metadata address", ErrForbidden, a)
		}
	}
	for _, r := range neverPrefixes {
		if r.Contains(a) {
			return fmt.Errorf("%w: %s is in %s", ErrForbidden, a, r)
		}
	}
	for _, r := range privatePrefixes {
		if r.Contains(a) {
			if p.AllowPrivate {
				return nil
			}
			return fmt.Errorf("%w: %s is private (%s)", ErrForbidden, a, r)
		}
	}
	if a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || !a.IsGlobalUnicast() {
		return fmt.Errorf("%w: %s is not a unicast address", ErrForbidden, a)
	}
	return nil
}

// embeddedIPv4 returns the IPv4 address an IPv6 address carries as
// IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 (2002::/16), and any other
// address unchanged.
func embeddedIPv4(a netip.Addr) netip.Addr {
	switch {
	case a.Is4In6():
		return a.Unmap()
	case nat64Prefix.Contains(a):
		b := a.As16()
		return netip.AddrFrom4([4]byte(b[12:16]))
	case sixToFour.Contains(a):
		b := a.As16()
		return netip.AddrFrom4([4]byte(b[2:6]))
	}
	return a
}

// Control is a net.Dialer Control hook: it runs after the name has been
// resolved and before connect, and refuses an address the policy does not
// allow, so nothing is sent to it. Only TCP is dialled.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	return p.checkDial(network, address, false)
}

// plainControl is Control for http: loopback only.
func (p Policy) plainControl(network, address string, _ syscall.RawConn) error {
	return p.checkDial(network, address, true)
}

func (p Policy) checkDial(network, address string, plain bool) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("%w: network %s", ErrForbidden, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrForbidden, address, err)
	}
	a := ap.Addr()
	if plain && !embeddedIPv4(a).IsLoopback() {
		return fmt.Errorf("%w: %s: http only to loopback", ErrForbidden, a)
	}
	return p.checkAddr(a)
}

// Dialer returns a dialer that checks every address it connects to.
func (p Policy) Dialer(plain bool) *net.Dialer {
	d := &net.Dialer{Control: p.Control}
	if plain {
		d.Control = p.plainControl
	}
	return d
}
