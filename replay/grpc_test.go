package replay

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/proxy"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// countingHealth is a gRPC health service that counts its calls and, when
// down, answers UNAVAILABLE.
type countingHealth struct {
	healthpb.UnimplementedHealthServer
	calls atomic.Int64
	down  atomic.Bool
}

func (h *countingHealth) Check(_ context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	h.calls.Add(1)
	if h.down.Load() {
		return nil, status.Error(codes.Unavailable, "going away")
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

// grpcServer starts a gRPC server on loopback, over TLS with the
// certificate cert when it is given.
func grpcServer(t *testing.T, cert ...tls.Certificate) (*countingHealth, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &countingHealth{}
	var opts []grpc.ServerOption
	if len(cert) > 0 {
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: cert})))
	}
	srv := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(srv, h)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return h, ln.Addr().String()
}

// recordGRPC records calls gRPC health checks through the reverse proxy in
// front of target, a URL (amp record --target; cfg gives the other
// settings), and returns the recording.
func recordGRPC(t *testing.T, cfg proxy.Config, target string, calls int) *capture.Recording {
	t.Helper()
	cfg.Target = target
	rec, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "grpc.amp")
	w, err := capture.Create(path, capture.FileHeader{Source: "proxy", Created: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- rec.Serve(ctx, ln, w) }()

	cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	client := healthpb.NewHealthClient(cc)
	for i := range calls {
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := client.Check(cctx, &healthpb.HealthCheckRequest{Service: ""})
		ccancel()
		if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("call %d through the recorder: %v %v", i, resp, err)
		}
	}
	cc.Close()
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := capture.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGRPCRecordReplay: unary gRPC calls recorded through the reverse proxy
// replay, as 20 users over h2c, as HTTP/2 POSTs with their framed bodies,
// without a .proto: the server counts every call, the endpoint is named
// /package.Service/Method, and a server answering UNAVAILABLE shows as
// that failure reason.
func TestGRPCRecordReplay(t *testing.T) {
	t.Parallel()
	h, addr := grpcServer(t)
	rec := recordGRPC(t, proxy.DefaultConfig(), "http://"+addr, 5)
	if n := rec.Exchanges(); n != 5 {
		t.Fatalf("%d exchanges recorded, want 5", n)
	}
	e := rec.Sessions[0].Exchanges[0]
	if e.Request.Proto != "HTTP/2.0" || e.Request.Method != "POST" || e.Response.Trailer.Get("Grpc-Status") != "0" ||
		capture.URLTarget(e.Request.URL) != "/grpc.health.v1.Health/Check" {
		t.Fatalf("recorded %s %s %s, trailers %v", e.Request.Proto, e.Request.Method, e.Request.URL, e.Response.Trailer)
	}
	before := h.calls.Load()

	cfg := fastConfig("http://" + addr)
	cfg.H2C, cfg.Users, cfg.Iterations = true, 20, 20
	res, _ := runReplay(t, rec, cfg)
	if res.Failures != 0 || res.Requests != 100 {
		t.Fatalf("%d requests, %d failures: %s", res.Requests, res.Failures, describeFailures(res))
	}
	if got := h.calls.Load() - before; got != 100 {
		t.Fatalf("the server counted %d calls, want 100", got)
	}
	if len(res.Endpoints) != 1 || res.Endpoints[0].Name != "/grpc.health.v1.Health/Check" {
		t.Fatalf("endpoints %+v", res.Endpoints)
	}

	h.down.Store(true)
	cfg.Users, cfg.Iterations = 4, 4
	res, _ = runReplay(t, rec, cfg)
	if res.Failures != 20 || len(res.Errors) != 1 || res.Errors[0].Reason != "grpc: UNAVAILABLE" || res.Errors[0].Sample != "going away" {
		t.Fatalf("a server answering UNAVAILABLE: %d failures: %s", res.Failures, describeFailures(res))
	}
}

// TestGRPCOverTLS: a gRPC server on TLS (h2 by ALPN) behind the reverse
// proxy: the calls go upstream over h2, are recorded, and replay to the
// https target over h2, all counted.
func TestGRPCOverTLS(t *testing.T) {
	t.Parallel()
	ts := httptest.NewTLSServer(nil) // only for its loopback certificate
	cert, pemPath := ts.TLS.Certificates[0], filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(pemPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	ts.Close()
	h, addr := grpcServer(t, cert)
	pcfg := proxy.DefaultConfig()
	pcfg.UpstreamCA = pemPath
	rec := recordGRPC(t, pcfg, "https://"+addr, 3)
	if e := rec.Sessions[0].Exchanges[0]; e.Response.Proto != "HTTP/2.0" || e.Response.Trailer.Get("Grpc-Status") != "0" {
		t.Fatalf("recorded %s, trailers %v", e.Response.Proto, e.Response.Trailer)
	}
	before := h.calls.Load()
	cfg := fastConfig("https://" + addr)
	cfg.Insecure, cfg.Users, cfg.Iterations = true, 5, 10
	res, _ := runReplay(t, rec, cfg)
	if res.Failures != 0 || res.Requests != 30 || h.calls.Load()-before != 30 {
		t.Fatalf("%d requests, %d failures (%s); the server counted %d", res.Requests, res.Failures, describeFailures(res), h.calls.Load()-before)
	}
}
