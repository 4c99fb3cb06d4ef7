package strictjson_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"

	"github.com/modelgraph/modelgraph/ingest/statement"
	"github.com/modelgraph/modelgraph/ingest/strictjson"
)

// envelope mirrors a bare DSSE envelope (ingest/envelope decodes into the
// same shape).
type envelope struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

const (
	subj = `{"name":"m","digest":{"sha256":"aa"}}`
	stmt = `{"_type":"https://in-toto.io/Statement/v1","subject":[` + subj + `],"predicateType":"p","predicate":{"a":1}}`
)

func TestCheck(t *testing.T) {
	cases := []struct {
		name, doc string
		v         any
		ptr, msg  string // "" ptr and msg: accepted
	}{
		{"statement", stmt, &statement.Statement{}, "", ""},
		{"unknown keys are fine", `{"_type":"x","extra":1,"subject":[{"name":"m","other":{"x":1}}]}`, &statement.Statement{}, "", ""},
		{"duplicate at top", `{"_type":"x","subject":[],"subject":[` + subj + `]}`, &statement.Statement{}, "/subject", `duplicate key "subject"`},
		{"duplicate in subject", `{"subject":[{"name":"a","name":"b"}]}`, &statement.Statement{}, "/subject/0/name", `duplicate key "name"`},
		{"duplicate in digest", `{"subject":[{"name":"a","digest":{"sha256":"aa","sha256":"bb"}}]}`, &statement.Statement{}, "/subject/0/digest/sha256", `duplicate key "sha256"`},
		{"duplicate in predicate (raw)", `{"predicate":{"x":{"y":1,"y":2}}}`, &statement.Statement{}, "/predicate/x/y", `duplicate key "y"`},
		{"duplicate without a shape", `[{"a":{"b":[{"c":1,"c":1}]}}]`, nil, "/0/a/b/0/c", `duplicate key "c"`},
		{"case variant SUBJECT", `{"_type":"x","SUBJECT":[` + subj + `]}`, &statement.Statement{}, "/SUBJECT", `key "SUBJECT" matches the field "subject" only case-insensitively`},
		{"case variant _Type", `{"_Type":"https://in-toto.io/Statement/v1"}`, &statement.Statement{}, "/_Type", `matches the field "_type"`},
		{"case variant in subject", `{"subject":[{"Name":"m"}]}`, &statement.Statement{}, "/subject/0/Name", `matches the field "name"`},
		{"long s folds to s", `{"ſubject":[]}`, &statement.Statement{}, "/ſubject", `matches the field "subject"`},
		{"Kelvin sign folds to k", `{"signatures":[{"\u212aeyid":"x"}]}`, &envelope{}, "/signatures/0/\u212aeyid", `matches the field "keyid"`},
		{"both spellings", `{"subject":[],"SUBJECT":[]}`, &statement.Statement{}, "/SUBJECT", `keys "subject" and "SUBJECT" differ only in case`},
		{"both spellings in a map", `{"subject":[{"digest":{"sha256":"aa","SHA256":"bb"}}]}`, &statement.Statement{}, "/subject/0/digest/SHA256", `differ only in case`},
		{"both spellings without a shape", `{"predicate":{"Model":1,"model":2}}`, nil, "/predicate/model", `differ only in case`},
		{"envelope duplicate payload", `{"payloadType":"t","payload":"YQ==","payload":"Yg==","signatures":[]}`, &envelope{}, "/payload", `duplicate key "payload"`},
		{"envelope case variant", `{"PayloadType":"t"}`, &envelope{}, "/PayloadType", `matches the field "payloadType"`},
		{"bundle duplicate", `{"mediaType":"a","dsseEnvelope":{"payload":"YQ==","payload":"Yg=="}}`, &protobundle.Bundle{}, "/dsseEnvelope/payload", `duplicate key "payload"`},
		{"bundle case variant", `{"mediaType":"a","DsseEnvelope":{}}`, &protobundle.Bundle{}, "/DsseEnvelope", `matches the field "dsseEnvelope"`},
		{"bundle nested case variant", `{"verificationMaterial":{"publicKey":{"Hint":"x"}}}`, &protobundle.Bundle{}, "/verificationMaterial/publicKey/Hint", `matches the field "hint"`},
		{"bundle in a list", `{"verificationMaterial":{"tlogEntries":[{"logIndex":"1","LOGINDEX":"2"}]}}`, &protobundle.Bundle{}, "/verificationMaterial/tlogEntries/0/LOGINDEX", `differ only in case`},
		{"bundle proto names", `{"media_type":"a","verification_material":{}}`, &protobundle.Bundle{}, "", ""},
		{"bundle JSON and proto name", `{"mediaType":"a","media_type":"b"}`, &protobundle.Bundle{}, "/media_type", `keys "mediaType" and "media_type" name the same field`},
		{"bundle JSON and proto name nested", `{"verificationMaterial":{"tlogEntries":[{"logIndex":"1","log_index":"2"}]}}`, &protobundle.Bundle{}, "/verificationMaterial/tlogEntries/0/log_index", `name the same field`},
		{"trailing value", stmt + ` {}`, &statement.Statement{}, "", "more than one JSON value"},
		{"invalid UTF-8", "{\"_type\":\"\xff\"}", &statement.Statement{}, "/_type", "invalid UTF-8"},
		{"lone surrogate", `{"_type":"\ud800"}`, &statement.Statement{}, "/_type", "surrogate"},
		{"truncated", `{"subject":[`, &statement.Statement{}, "/subject", "unexpected"},
		{"too deep", strings.Repeat("[", strictjson.MaxDepth+1) + strings.Repeat("]", strictjson.MaxDepth+1), nil, "", "nests deeper than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := strictjson.Check([]byte(c.doc), c.v)
			if c.msg == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var se *strictjson.Error
			if !errors.As(err, &se) || !errors.Is(err, strictjson.ErrInvalid) {
				t.Fatalf("error %v (%T), want a *strictjson.Error", err, err)
			}
			ambiguous := strings.Contains(c.msg, "duplicate") || strings.Contains(c.msg, "case") || strings.Contains(c.msg, "field")
			if errors.Is(err, strictjson.ErrAmbiguous) != ambiguous {
				t.Errorf("error %v: ambiguous %v, want %v", err, !ambiguous, ambiguous)
			}
			if !strings.Contains(se.Msg, c.msg) || (c.ptr != "" && se.Pointer != c.ptr) {
				t.Fatalf("error at %q: %q, want at %q: %q", se.Pointer, se.Msg, c.ptr, c.msg)
			}
		})
	}
}

// The differential Check closes: encoding/json reads these as the second
// (or case-variant) value, a strict reader as the first or not at all.
func TestLaxReaderDisagrees(t *testing.T) {
	var lax statement.Statement
	if err := json.Unmarshal([]byte(`{"subject":[{"name":"A"}],"SUBJECT":[{"name":"B"}]}`), &lax); err != nil || lax.Subject[0].Name != "B" {
		t.Fatalf("encoding/json no longer takes the case variant (%v %+v): revisit this package", err, lax)
	}
	if err := strictjson.Unmarshal([]byte(`{"subject":[{"name":"A"}],"SUBJECT":[{"name":"B"}]}`), &lax); err == nil {
		t.Fatal("strict decoding accepted it")
	}
}

func TestUnmarshalUseNumber(t *testing.T) {
	var v any
	if err := strictjson.Unmarshal([]byte(`{"n":12345678901234567890}`), &v, strictjson.UseNumber()); err != nil {
		t.Fatal(err)
	}
	if n, ok := v.(map[string]any)["n"].(json.Number); !ok || n.String() != "12345678901234567890" {
		t.Fatalf("%#v", v)
	}
}
