package mesh

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"
)

// tlsConfigs returns the server and client TLS configurations of one
// endpoint. The certificate is self-signed and thrown away with the
// process: TLS provides confidentiality and a channel binding value, not
// identity, so certificates are not verified. Identity comes from the
// Noise handshake, whose prologue is the TLS exporter value; a man in the
// middle terminating TLS on both sides yields two different exporter
// values and the Noise handshake fails.
func tlsConfigs() (server, client *tls.Config, err error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("mesh: generate tls key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("mesh: generate tls serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "murmur"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(20 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		return nil, nil, fmt.Errorf("mesh: create tls certificate: %w", err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}

	server = &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
	}
	client = &tls.Config{
		MinVersion: tls.VersionTLS13,
		ServerName: "murmur",
		// Certificates are throwaway and carry no identity; the Noise
		// handshake bound to this TLS session authenticates the peer.
		InsecureSkipVerify: true, //nolint:gosec // see above
	}
	return server, client, nil
}
