package interop

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// PKI is a certificate authority made for one test, and a certificate it issued for each of a
// few host names (such as app.test and op.test), each with a key of its own. Nothing outside the
// test trusts it: the test's HTTP clients trust its CA ([PKI.Client]), and Chromium the keys of
// its certificates ([PKI.SPKIHashes]).
type PKI struct {
	pool  *x509.CertPool
	leafs map[string]tls.Certificate // by host name
	dir   string                     // where Files writes PEM files
}

// NewPKI makes a CA and a certificate for each host, valid for an hour.
func NewPKI(t *testing.T, hosts ...string) *PKI {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: "parlogin interop test CA"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	k := &PKI{pool: x509.NewCertPool(), leafs: make(map[string]tls.Certificate), dir: t.TempDir()}
	k.pool.AddCert(ca)
	for _, host := range hosts {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		template := &x509.Certificate{
			SerialNumber: serial(t),
			Subject:      pkix.Name{CommonName: host},
			DNSNames:     []string{host},
			NotBefore:    now.Add(-time.Minute),
			NotAfter:     now.Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, template, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		k.leafs[host] = tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key, Leaf: leaf}
	}
	return k
}

func serial(t *testing.T) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ServerTLS is the TLS configuration of a server of host.
func (k *PKI) ServerTLS(host string) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{k.leafs[host]}, MinVersion: tls.VersionTLS12}
}

// Files writes the certificate chain and the key of host as PEM files, for a server that is not
// written in Go, and returns their paths.
func (k *PKI) Files(t *testing.T, host string) (certFile, keyFile string) {
	t.Helper()
	c := k.leafs[host]
	var chain []byte
	for _, der := range c.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(k.dir, host+".crt"), filepath.Join(k.dir, host+".key")
	if err := os.WriteFile(certFile, chain, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// SPKIHashes are the base64 SHA-256 hashes of the public keys (SubjectPublicKeyInfo) of the
// PKI's certificates, for Chromium's --ignore-certificate-errors-spki-list: Chromium then accepts
// these certificates, and no other certificate that its own roots do not.
func (k *PKI) SPKIHashes() []string {
	var hashes []string
	for _, c := range k.leafs {
		sum := sha256.Sum256(c.Leaf.RawSubjectPublicKeyInfo)
		hashes = append(hashes, base64.StdEncoding.EncodeToString(sum[:]))
	}
	return hashes
}

// HostResolverRules maps the PKI's host names to 127.0.0.1, for Chromium's
// --host-resolver-rules: the way [PKI.Client] resolves them.
func (k *PKI) HostResolverRules() string {
	var rules []string
	for host := range k.leafs {
		rules = append(rules, "MAP "+host+" 127.0.0.1")
	}
	return strings.Join(rules, ", ")
}

// Client is an HTTP client that trusts the PKI's CA only, and connects to 127.0.0.1 for the
// PKI's host names, as if a DNS server said so: the app's client for the provider at op.test.
func (k *PKI) Client() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: k.pool, MinVersion: tls.VersionTLS12}
	var dialer net.Dialer
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if _, ok := k.leafs[host]; ok {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return dialer.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: t, Timeout: 10 * time.Second}
}
