package graph

import (
	"reflect"
	"strings"
	"testing"
)

func TestNormalizeAlgorithm(t *testing.T) {
	for in, want := range map[string]string{
		"SHA-256": "sha256", "sha256": "sha256", "SHA256": "sha256", "sha-512": "sha512",
		"SHA-1": "sha1", "BLAKE2b-512": "blake2b", "BLAKE3": "blake3", "SHA3-256": "sha3-256", " sha384 ": "sha384",
	} {
		if got := NormalizeAlgorithm(in); got != want {
			t.Errorf("NormalizeAlgorithm(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDigestKey(t *testing.T) {
	hex := strings.Repeat("AB", 32)
	k, err := DigestKey("SHA-256", hex)
	if err != nil || k != "sha256:"+strings.ToLower(hex) {
		t.Fatalf("DigestKey = %q, %v", k, err)
	}
	if k, err := DigestKey("sha-256", " "+hex+" "); err != nil || k != "sha256:"+strings.ToLower(hex) {
		t.Fatalf("DigestKey with spaces = %q, %v", k, err)
	}
	if k, err := DigestKey("whirlpool", "ABcd"); err != nil || k != "whirlpool:abcd" {
		t.Fatalf("DigestKey of an unknown algorithm = %q, %v", k, err)
	}
	for _, bad := range [][2]string{{"sha256", "xyz"}, {"sha256", "abcd"}, {"", "ab"}, {"sha256", ""}, {"whirlpool", "abc"}, {"whirlpool", "ag"}, {"whirlpool", "\u212aa"}} {
		if _, err := DigestKey(bad[0], bad[1]); err == nil {
			t.Errorf("DigestKey(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestNormalizeKey(t *testing.T) {
	hex := strings.Repeat("cd", 32)
	cases := map[string]string{
		"SHA-256:" + strings.ToUpper(hex): "sha256:" + hex,
		"pkg:pypi/torch@2.3.0":            "pkg:pypi/torch@2.3.0",
		"hf://acme/llm-7b":                "hf://acme/llm-7b",
		"  name:acme/llm-7b ":             "name:acme/llm-7b",
	}
	for in, want := range cases {
		if got, err := NormalizeKey(in); err != nil || got != want {
			t.Errorf("NormalizeKey(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "noscheme", ":x", "sha256:zz", strings.Repeat("a", MaxKeyLen) + ":x"} {
		if _, err := NormalizeKey(bad); err == nil {
			t.Errorf("NormalizeKey(%q) accepted", bad)
		}
	}
}

func TestBatchDedupesNodesAndEdges(t *testing.T) {
	b := NewBatch(Document{Digest: SHA256Key([]byte("d")), Type: "t", Signatures: []Signature{{Method: "key", KeyID: "k1", Status: StatusVerified}}})
	m1 := b.Node(KindModel, "SHA-256:"+strings.Repeat("AA", 32))
	m2 := b.Node(KindModel, NameKey("x"), "sha256:"+strings.Repeat("aa", 32))
	if m1 != m2 || len(b.Nodes[m1].Keys) != 2 {
		t.Fatalf("same model named twice gave %d and %d (%v)", m1, m2, b.Nodes[m1].Keys)
	}
	f := b.Node(KindFile, "sha256:"+strings.Repeat("aa", 32))
	if f == m1 {
		t.Fatal("a file and a model with one digest merged")
	}
	b.Edge(m1, Contains, f, "path", "a")
	b.Edge(m1, Contains, f, "path", "a")
	if n := len(b.Edges); n != 2 { // SIGNED_BY from NewBatch + CONTAINS
		t.Fatalf("%d edges, want 2", n)
	}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	if b.Nodes[1].Kind != KindIdentity || b.Nodes[1].Keys[0] != "key:k1" {
		t.Fatalf("signer not recorded: %+v", b.Nodes[1])
	}
}

func TestDocumentStatus(t *testing.T) {
	sig := func(s Status) Signature { return Signature{Status: s} }
	cases := []struct {
		sigs []Signature
		want Status
	}{
		{nil, StatusUnsigned},
		{[]Signature{sig(StatusFailed), sig(StatusVerified)}, StatusVerified},
		{[]Signature{sig(StatusUnverifiable), sig(StatusFailed)}, StatusFailed},
		{[]Signature{sig(StatusUnverifiable)}, StatusUnverifiable},
	}
	for _, c := range cases {
		if got := (Document{Signatures: c.sigs}).Status(); got != c.want {
			t.Errorf("%v: %s, want %s", c.sigs, got, c.want)
		}
	}
}

func FuzzNormalizeKey(f *testing.F) {
	for _, s := range []string{"sha256:" + strings.Repeat("ab", 32), "SHA-256:AB", "pkg:npm/x@1", "hf://a/b", "name:x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := NormalizeKey(s)
		if err != nil {
			return
		}
		again, err := NormalizeKey(k)
		if err != nil || again != k {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", s, k, again, err)
		}
	})
}

// TestNormalKeyFastPath: every key the allocation-free check passes through
// is one the full normalisation returns unchanged and accepts.
func TestNormalKeyFastPath(t *testing.T) {
	h := strings.Repeat("ab", 32)
	keys := []string{
		"sha256:" + h, "sha256:" + strings.ToUpper(h), "SHA256:" + h, "sha-256:" + h, "sha256:" + h[:10],
		"sha512:" + h + h, "md5:" + h[:32], "blake3:" + h, "blake2b-512:" + h + h, "sha1:" + h[:40],
		"pkg:pypi/torch@2.3.0", " pkg:pypi/x", "pkg:pypi/x ", "name:acme", "hf://acme/x", "s3://b/k",
		"swhid:1", "sha:1", "bogus:" + h, "Sha256:" + h, "b:x", "m:x", "noscheme", ":x", "", "\u00a0name:x",
		"name:x\u00a0", "SHA256://x", "oidc:https://issuer|me", "key:abc", "vuln:CVE-2021-44228",
		strings.Repeat("a", MaxKeyLen) + ":x", "\u212a:x", "ſha256:" + h,
		"_sha256:" + h, "-sha256:" + strings.ToUpper(h), "_-md5:" + h[:32], "9:x", "@:x", "Z:x", "{sha256}:" + h,
	}
	for _, k := range keys {
		fast := normalKey(k)
		slow, err := normalizeKeySlow(k)
		if fast && (err != nil || slow != k) {
			t.Errorf("normalKey(%q) = true, but the full normalisation gives %q, %v", k, slow, err)
		}
		if !fast && err == nil && slow == k && k != "" && strings.IndexByte(k, ':') > 0 && (k[0]|0x20 >= 'a' && k[0]|0x20 <= 'z') && (k[0]|0x20 != 's' && k[0]|0x20 != 'b' && k[0]|0x20 != 'm') {
			t.Errorf("normalKey(%q) = false for a plain normal key (the fast path misses the common case)", k)
		}
		got, err2 := NormalizeKey(k)
		if got != slow || (err == nil) != (err2 == nil) {
			t.Errorf("NormalizeKey(%q) = %q, %v; the full normalisation %q, %v", k, got, err2, slow, err)
		}
	}
	dk := "sha256:" + h
	if n := testing.AllocsPerRun(50, func() { _, _ = NormalizeKey(dk) }); n != 0 {
		t.Errorf("NormalizeKey of a normal digest key: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(50, func() { _, _ = NormalizeKey("pkg:pypi/torch@2.3.0") }); n != 0 {
		t.Errorf("NormalizeKey of a normal purl: %v allocations, want 0", n)
	}
}

// FuzzNormalKeyFastPath: the fast path never passes a key the full
// normalisation would change or refuse.
func FuzzNormalKeyFastPath(f *testing.F) {
	for _, s := range []string{"sha256:" + strings.Repeat("ab", 32), "_sha256:" + strings.Repeat("ab", 32), "pkg:npm/x@1", "hf://a/b", "Md5:x", "name:x "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !normalKey(s) {
			return
		}
		if k, err := normalizeKeySlow(s); err != nil || k != s {
			t.Fatalf("normalKey(%q) = true, full normalisation %q, %v", s, k, err)
		}
	})
}

// TestReserveKeepsBatch: a batch built after Reserve and ReserveKeys (or
// ReserveAll) has the nodes, keys and merges of one built without them.
func TestReserveKeepsBatch(t *testing.T) {
	build := func(reserve int) *Batch {
		b := NewBatch(Document{Digest: SHA256Key([]byte("r")), Type: "cyclonedx"})
		switch reserve {
		case 1:
			b.Reserve(10, 10)
			b.ReserveKeys(40)
		case 2:
			b.ReserveAll(10, 10, 40)
		}
		i := b.Node(KindPackage, "pkg:pypi/a@1", "SHA-256:"+strings.Repeat("AB", 32))
		j := b.Node(KindPackage, "pkg:pypi/b@1")
		b.Node(KindPackage, "pkg:pypi/b@1", "sha256:"+strings.Repeat("ab", 32)) // joins a and b
		b.ReserveKeys(5)
		b.Node(KindPackage, "pkg:pypi/a@1", "md5:"+strings.Repeat("0", 32))
		b.Edge(j, DependsOn, i)
		return b
	}
	a := build(0)
	for _, mode := range []int{1, 2} {
		b := build(mode)
		if !reflect.DeepEqual(a.Nodes, b.Nodes) || !reflect.DeepEqual(a.Edges, b.Edges) {
			t.Fatalf("batches differ (reserve mode %d):\n%+v\n%+v", mode, a.Nodes, b.Nodes)
		}
	}
	if len(a.Nodes) != 3 || len(a.Nodes[2].Keys) != 2 || len(a.Nodes[1].Keys) != 3 {
		t.Fatalf("unexpected batch %+v", a.Nodes)
	}
}
