package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"

	"github.com/shopscore/shopscore/audit"
	"github.com/shopscore/shopscore/console"
	"github.com/shopscore/shopscore/internal/cli"
	"github.com/shopscore/shopscore/server"
	"github.com/shopscore/shopscore/server/auth"
	"github.com/shopscore/shopscore/server/blob"
	"github.com/shopscore/shopscore/server/demo"
)

func init() {
	register(command{
		name: "serve",
		synopsis: `shopscore serve [--addr 127.0.0.1:8080] [--data ./data] [--demo] [--log-format text|json]
                       [--public-url URL] [--trusted-proxies CIDR,…] [--s3-endpoint E [--s3-bucket B] [--s3-region R]]
                       [--smtp-host H [--smtp-port P] [--smtp-tls implicit|starttls|none] [--smtp-username U --smtp-password-file F]
                        --smtp-from ADDRESS]`,
		run: runServe,
	})
}

// runServe runs "shopscore serve": the server on --addr until ctx ends.
func runServe(ctx context.Context, fs *cli.FlagSet, args []string, o cmdIO) error {
	getenv := o.getenv
	d := addDataFlags(fs, getenv, "info")
	addr := fs.String("addr", envOr(getenv, "SHOPSCORE_ADDR", "127.0.0.1:8080"), "listen address (env SHOPSCORE_ADDR)")
	withDemo := fs.Bool("demo", false, "seed demo data into an empty database")
	maxReq := fs.Int("max-request-bytes", 4<<20, "largest request message accepted, after decompression")
	publicURL := fs.String("public-url", getenv("SHOPSCORE_PUBLIC_URL"), "base URL devices reach the server at, for photo upload URLs; derived from --addr if empty (env SHOPSCORE_PUBLIC_URL)")
	trusted := fs.String("trusted-proxies", getenv("SHOPSCORE_TRUSTED_PROXIES"), "load balancers in front of the server, addresses or CIDR prefixes separated by commas: from them the client's address is read from X-Forwarded-For (env SHOPSCORE_TRUSTED_PROXIES)")
	s3Endpoint := fs.String("s3-endpoint", getenv("SHOPSCORE_S3_ENDPOINT"), "S3 endpoint for photo evidence, host:port or http(s) URL; the local store under --data if empty (env SHOPSCORE_S3_ENDPOINT)")
	s3Bucket := fs.String("s3-bucket", envOr(getenv, "SHOPSCORE_S3_BUCKET", "shopscore-evidence"), "S3 bucket for photo evidence, created if missing (env SHOPSCORE_S3_BUCKET)")
	s3Region := fs.String("s3-region", envOr(getenv, "SHOPSCORE_S3_REGION", blob.DefaultS3Region), "S3 region (env SHOPSCORE_S3_REGION)")
	hookLoopback := fs.Bool("webhook-allow-loopback", false, "development only: let webhook endpoints be on this machine, over http too")
	hookPrivate := fs.Bool("webhook-allow-private", false, "let webhook endpoints be in private networks (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7); link-local and metadata addresses stay refused")
	hookOff := fs.Bool("webhook-off", false, "deliver no webhooks from this server (another server of the same database does)")
	smtp := addSMTPFlags(fs, getenv)
	if _, err := parseArgs(fs, args, ""); err != nil {
		return err
	}
	cfg, err := d.serverConfig(o.stderr)
	if err != nil {
		return err
	}
	cfg.MaxRequestBytes, cfg.PublicURL = *maxReq, *publicURL
	if cfg.TrustedProxies, err = server.ParseTrustedProxies(*trusted); err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	cfg.Webhooks = server.Webhooks{AllowLoopback: *hookLoopback, AllowPrivate: *hookPrivate, Off: *hookOff}
	if cfg.Mail.SMTP, err = smtp.config(); err != nil {
		return err
	}
	cfg.Mail.Off = *smtp.off
	if cfg.Mail.SMTP.Enabled() {
		cfg.Logger.Info("e-mail notifications on", "smtp", cfg.Mail.SMTP)
	}
	if cfg.Console, err = console.Handler(console.Options{ImageOrigins: endpointOrigins(*s3Endpoint)}); err != nil {
		return err
	}
	if *s3Endpoint != "" {
		// The keys come from the environment only, so that ps never
		// shows them.
		store, err := blob.NewS3(ctx, blob.S3Config{
			Endpoint: *s3Endpoint, Bucket: *s3Bucket, Region: *s3Region,
			AccessKey: getenv("SHOPSCORE_S3_ACCESS_KEY"), SecretKey: getenv("SHOPSCORE_S3_SECRET_KEY"),
		})
		if err != nil {
			return fmt.Errorf("evidence store: %w", err)
		}
		cfg.Blob = store
	}
	if cfg.Storage, err = d.openStorage(cfg.KeyEncryptionKey); err != nil {
		return err
	}
	return serve(ctx, cfg, *addr, *withDemo, o.stdout, getenv)
}

func serve(ctx context.Context, cfg server.Config, addr string, withDemo bool, stdout io.Writer, getenv func(string) string) error {
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	log := cfg.Logger
	if withDemo {
		password := getenv("SHOPSCORE_DEMO_PASSWORD")
		generated := password == ""
		if generated {
			password = newPassword()
		}
		seeded, err := demo.Seed(ctx, srv, password)
		if err == nil && seeded {
			err = demo.SeedReports(ctx, srv)
		}
		if err != nil {
			srv.Close()
			return err
		}
		switch {
		case seeded:
			fmt.Fprintf(stdout, "Seeded demo data. Users (password %s):\n", password)
			for _, r := range audit.Roles {
				fmt.Fprintf(stdout, "  %-8s %s\n", r, demo.Users[r])
			}
			fmt.Fprintf(stdout, "  %-8s %s (a second manager of the same stores: an appeal's judge)\n", audit.RoleManager, demo.SecondManager)
			if generated {
				fmt.Fprintln(stdout, "  (the password was generated; set SHOPSCORE_DEMO_PASSWORD to choose it)")
			}
		default:
			fmt.Fprintf(stdout, "The database in %s already has users; demo data not seeded again.\n", cfg.DataDir)
			fmt.Fprintln(stdout, demoPasswordNote(ctx, srv, password, generated))
			fmt.Fprintf(stdout, "To start over with fresh demo data and a new password, stop the server, delete %s (`make reset`) and start it again.\n", cfg.DataDir)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		srv.Close()
		return err
	}
	log.Info("shopscore listening", "addr", ln.Addr().String(), "data", cfg.DataDir)
	if cfg.Console != nil {
		fmt.Fprintf(stdout, "Console: %s/\n", listenURL(ln.Addr().String()))
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// demoPasswordNote says which password the demo users of an already
// seeded database have: the one they were seeded with, which is the given
// one only if it checks against the demo admin's hash.
func demoPasswordNote(ctx context.Context, srv *server.Server, password string, generated bool) string {
	const kept = "The demo users keep the password they were first seeded with"
	if generated {
		return kept + " (printed when they were seeded); SHOPSCORE_DEMO_PASSWORD was not set."
	}
	_, hash, err := srv.Storage().Users().FindByEmail(ctx, demo.Users[audit.RoleAdmin])
	if err != nil {
		return kept + "."
	}
	if ok, err := auth.CheckPassword(hash, password); err == nil && ok {
		return "The demo users' password is SHOPSCORE_DEMO_PASSWORD, as when they were seeded."
	}
	return kept + ": SHOPSCORE_DEMO_PASSWORD is not it, and logins with it will fail."
}

// listenURL is the address a browser on this machine opens for a listener.
func listenURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// endpointOrigins are the origins an S3 endpoint's download URLs may have,
// for the console's image policy: the URL's own, or both schemes of a
// bare host:port.
func endpointOrigins(endpoint string) []string {
	if endpoint == "" {
		return nil
	}
	if u, err := url.Parse(endpoint); err == nil && u.Scheme != "" && u.Host != "" {
		return []string{u.Scheme + "://" + u.Host}
	}
	return []string{"https://" + endpoint, "http://" + endpoint}
}
