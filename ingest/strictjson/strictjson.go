// Package strictjson is the one home of strict JSON decoding for signed
// data: sigstore bundles, DSSE envelopes, in-toto statements and their
// predicates. encoding/json accepts JSON that other readers see differently:
// a repeated key (it keeps the last; many readers keep the first or refuse)
// and a key that matches a field only case-insensitively (`SUBJECT` fills
// Subject; Python's json and model_signing see no `subject`). On signed data
// such a parser differential lets one signature mean two things, so this
// package refuses the ambiguity before anything is decoded:
//
//   - duplicate object keys, at any depth;
//   - two keys of one object that are equal under case folding
//     (`subject` and `SUBJECT`), at any depth;
//   - a key that matches a field of the destination only case-insensitively
//     (`_Type` for `_type`), for Go structs and protobuf messages;
//   - invalid UTF-8, anything after the one JSON value, nesting deeper than
//     MaxDepth.
//
// What it accepts is then decoded with encoding/json as before, so every
// reader (Go's lax one, a strict case-sensitive one such as
// encoding/json/v2, Python's json) gets the same value; FuzzStrictVsLax
// checks that against github.com/go-json-experiment/json (encoding/json/v2).
// Syntax is checked by go-json-experiment's jsontext decoder, which also
// finds exact duplicate keys.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/modelgraph/modelgraph/ingest/docerr"
	"io"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// MaxDepth bounds the nesting of objects and arrays.
const MaxDepth = 256

// Errors. Callers wrap them in their own invalid-document error.
var (
	// ErrInvalid is the root of every error for JSON this package refuses
	// (bad syntax, invalid UTF-8, trailing data, too deep).
	ErrInvalid = docerr.Sentinel("invalid JSON", docerr.ErrMalformed)
	// ErrAmbiguous: JSON readers would disagree on it (a duplicate key,
	// keys differing only in case, a case variant of a field).
	ErrAmbiguous = docerr.Sentinel("invalid JSON: ambiguous for JSON readers", ErrInvalid, docerr.ErrAmbiguous)
)

// Error names where the JSON was refused: Pointer is the JSON pointer
// (RFC 6901) of the offending key or value, relative to the decoded value.
type Error struct {
	Pointer string
	Msg     string
	Err     error // ErrInvalid or ErrAmbiguous
}

func (e *Error) Error() string {
	p := e.Pointer
	if p == "" {
		p = "/"
	}
	return fmt.Sprintf("%s: at %s: %s", e.Err, p, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Option changes how Unmarshal decodes.
type Option func(*json.Decoder)

// UseNumber decodes numbers in interface values as json.Number.
func UseNumber() Option { return func(d *json.Decoder) { d.UseNumber() } }

// Unmarshal checks data (Check) and decodes it into v with encoding/json.
func Unmarshal(data []byte, v any, opts ...Option) error {
	if err := Check(data, v); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for _, o := range opts {
		o(dec)
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	return nil
}

// Check refuses data unless it is exactly one JSON value, valid UTF-8, no
// deeper than MaxDepth, with no duplicate keys and no two keys of an object
// equal under case folding, and — when v is (a pointer to) a struct or a
// protobuf message — no key matching one of its fields only
// case-insensitively. v may be nil (only the shape-free checks apply).
func Check(data []byte, v any) error {
	// A bytes.Buffer is parsed in place (no copy); data is not modified.
	c := &checker{dec: jsontext.NewDecoder(bytes.NewBuffer(data))}
	if err := c.value(shapeOf(v), 0); err != nil {
		return err
	}
	if _, err := c.dec.ReadToken(); err != io.EOF {
		if err == nil {
			return &Error{Msg: "more than one JSON value", Err: ErrInvalid}
		}
		return c.syntax(err)
	}
	return nil
}

type checker struct {
	dec *jsontext.Decoder
}

// syntax turns a jsontext error into an *Error with its pointer.
func (c *checker) syntax(err error) error {
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		if errors.Is(se.Err, jsontext.ErrDuplicateName) {
			return &Error{Pointer: string(se.JSONPointer), Msg: fmt.Sprintf("duplicate key %q", se.JSONPointer.LastToken()), Err: ErrAmbiguous}
		}
		return &Error{Pointer: string(se.JSONPointer), Msg: se.Err.Error(), Err: ErrInvalid}
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return &Error{Pointer: string(c.dec.StackPointer()), Msg: "unexpected end of JSON", Err: ErrInvalid}
	}
	return &Error{Pointer: string(c.dec.StackPointer()), Msg: err.Error(), Err: ErrInvalid}
}

func (c *checker) value(sh shape, depth int) error {
	switch c.dec.PeekKind() {
	case '{':
		if depth >= MaxDepth {
			return &Error{Pointer: c.at(), Msg: fmt.Sprintf("nests deeper than %d levels", MaxDepth), Err: ErrInvalid}
		}
		if _, err := c.dec.ReadToken(); err != nil {
			return c.syntax(err)
		}
		var keys foldedKeys
		var fields map[string]string // field -> key, for messages with two spellings
		for c.dec.PeekKind() != '}' {
			nt, err := c.dec.ReadToken()
			if err != nil {
				return c.syntax(err)
			}
			name := nt.String()
			if prev, ok := keys.add(name); !ok {
				// Exact duplicates are jsontext's to report (syntax).
				return &Error{Pointer: c.at(), Msg: fmt.Sprintf("keys %q and %q differ only in case", prev, name), Err: ErrAmbiguous}
			}
			child, err := field(sh, name)
			if err != nil {
				return &Error{Pointer: c.at(), Msg: err.Error(), Err: ErrAmbiguous}
			}
			if f := canonical(sh, name); f != "" {
				if prev, dup := fields[f]; dup {
					return &Error{Pointer: c.at(), Msg: fmt.Sprintf("keys %q and %q name the same field", prev, name), Err: ErrAmbiguous}
				}
				if fields == nil {
					fields = map[string]string{}
				}
				fields[f] = name
			}
			if err := c.value(child, depth+1); err != nil {
				return err
			}
		}
		if _, err := c.dec.ReadToken(); err != nil {
			return c.syntax(err)
		}
	case '[':
		if depth >= MaxDepth {
			return &Error{Pointer: c.at(), Msg: fmt.Sprintf("nests deeper than %d levels", MaxDepth), Err: ErrInvalid}
		}
		if _, err := c.dec.ReadToken(); err != nil {
			return c.syntax(err)
		}
		child := elem(sh)
		for c.dec.PeekKind() != ']' {
			if err := c.value(child, depth+1); err != nil {
				return err
			}
		}
		if _, err := c.dec.ReadToken(); err != nil {
			return c.syntax(err)
		}
	default: // a literal, or invalid input (SkipValue reports it)
		if err := c.dec.SkipValue(); err != nil {
			return c.syntax(err)
		}
	}
	return nil
}

// at is the JSON pointer of the value or key just read.
func (c *checker) at() string { return string(c.dec.StackPointer()) }

// foldedKeys are the keys of one object seen so far: a slice scanned with
// foldEqual while small (most objects have a handful of keys), a map of
// folds beyond.
type foldedKeys struct {
	small []string
	big   map[string]string // fold -> key
}

// add records key name; it returns the earlier key with the same fold and
// false if there is one.
func (k *foldedKeys) add(name string) (string, bool) {
	if k.big != nil {
		f := fold(name)
		if prev, ok := k.big[f]; ok {
			return prev, false
		}
		k.big[f] = name
		return "", true
	}
	for _, prev := range k.small {
		if foldEqual(prev, name) {
			return prev, false
		}
	}
	k.small = append(k.small, name)
	if len(k.small) > 16 {
		k.big = make(map[string]string, 2*len(k.small))
		for _, n := range k.small {
			k.big[fold(n)] = n
		}
		k.small = nil
	}
	return "", true
}

// fold is encoding/json's key folding (its foldName): keys with the same
// fold match the same struct field there. ASCII letters are upper-cased;
// other runes become the smallest rune of their case-fold orbit, so "ſ"
// (long s) and "K" (Kelvin sign) fold like "S" and "K".
func fold(s string) string {
	plain := true // ASCII without lower-case letters folds to itself
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('a' <= c && c <= 'z') {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			continue
		}
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// foldRune is the smallest rune of r's case-fold orbit (encoding/json's).
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// foldEqual reports fold(a) == fold(b) without building either.
func foldEqual(a, b string) bool {
	for a != "" && b != "" {
		var ra, rb rune
		if a[0] < utf8.RuneSelf {
			ra, a = rune(a[0]), a[1:]
		} else {
			r, n := utf8.DecodeRuneInString(a)
			ra, a = r, a[n:]
		}
		if b[0] < utf8.RuneSelf {
			rb, b = rune(b[0]), b[1:]
		} else {
			r, n := utf8.DecodeRuneInString(b)
			rb, b = r, b[n:]
		}
		if ra == rb {
			continue
		}
		if ra < utf8.RuneSelf && rb < utf8.RuneSelf {
			if 'a' <= ra && ra <= 'z' {
				ra -= 'a' - 'A'
			}
			if 'a' <= rb && rb <= 'z' {
				rb -= 'a' - 'A'
			}
			if ra != rb {
				return false
			}
			continue
		}
		if foldOne(ra) != foldOne(rb) {
			return false
		}
	}
	return a == "" && b == ""
}

// foldOne folds one rune as fold does.
func foldOne(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return r
	}
	return foldRune(r)
}

// shape is what the destination expects at a point of the document: a Go
// type, a protobuf message or field, or nothing known (nil).
type shape interface {
	// fields lists the accepted keys (nil: any key, values of shape elem).
	fields() *fieldSet
	// elem is the shape of array elements and map values (nil if unknown).
	elem() shape
}

// fieldSet is the keys a struct or message accepts, with their folds.
type fieldSet struct {
	exact  map[string]shape
	folded map[string]string // fold -> a field name with that fold
	canon  map[string]string // key -> its field, where a field has two keys (protobuf JSON and proto names)
}

// canonical is the field key name names when the field has two spellings
// ("" otherwise).
func canonical(sh shape, name string) string {
	if sh == nil {
		return ""
	}
	if fs := sh.fields(); fs != nil {
		return fs.canon[name]
	}
	return ""
}

func newFieldSet(m map[string]shape) *fieldSet {
	fs := &fieldSet{exact: m, folded: make(map[string]string, len(m))}
	for k := range m {
		fs.folded[fold(k)] = k
	}
	return fs
}

// fieldSets caches fieldSet by reflect.Type or protobuf descriptor.
var fieldSets sync.Map

func cachedFields(key any, build func() map[string]shape) *fieldSet {
	if fs, ok := fieldSets.Load(key); ok {
		return fs.(*fieldSet)
	}
	fs, _ := fieldSets.LoadOrStore(key, newFieldSet(build()))
	return fs.(*fieldSet)
}

func field(sh shape, name string) (shape, error) {
	if sh == nil {
		return nil, nil
	}
	fs := sh.fields()
	if fs == nil { // a map or an unknown value: any key
		return sh.elem(), nil
	}
	if child, ok := fs.exact[name]; ok {
		return child, nil
	}
	if k, ok := fs.folded[fold(name)]; ok {
		return nil, fmt.Errorf("key %q matches the field %q only case-insensitively (keys are case-sensitive)", name, k)
	}
	return nil, nil // unknown keys are ignored by every reader
}

func elem(sh shape) shape {
	if sh == nil {
		return nil
	}
	return sh.elem()
}

func shapeOf(v any) shape {
	if v == nil {
		return nil
	}
	if m, ok := v.(proto.Message); ok {
		return protoShape{m.ProtoReflect().Descriptor()}
	}
	return goShape(reflect.TypeOf(v))
}

// goType is the shape of a Go type as encoding/json decodes it.
type goType struct {
	t reflect.Type
}

var rawMessage = reflect.TypeFor[json.RawMessage]()

func goShape(t reflect.Type) shape {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t == rawMessage || t.Kind() == reflect.Interface {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return nil // []byte is a base64 string
		}
		return goType{t}
	}
	return nil
}

func (g goType) fields() *fieldSet {
	if g.t.Kind() != reflect.Struct {
		return nil
	}
	return cachedFields(g.t, func() map[string]shape {
		out := map[string]shape{}
		addFields(g.t, out)
		return out
	})
}

// addFields lists the JSON names of t's fields by encoding/json's rules
// (tag name, else the Go name; "-" skipped; embedded structs flattened).
func addFields(t reflect.Type, out map[string]shape) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(ft, out)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := out[name]; !dup {
			out[name] = goShape(f.Type)
		}
	}
}

func (g goType) elem() shape {
	switch g.t.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array:
		return goShape(g.t.Elem())
	}
	return nil
}

// protoShape is a message as protojson reads it: each field by its JSON
// name and its proto name.
type protoShape struct {
	md protoreflect.MessageDescriptor
}

// protoElem is the shape of a repeated or map field's elements.
type protoElem struct {
	fd protoreflect.FieldDescriptor
}

func messageShape(md protoreflect.MessageDescriptor) shape {
	if md == nil || strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return nil // well-known types have their own JSON forms
	}
	return protoShape{md}
}

func fieldShape(fd protoreflect.FieldDescriptor) shape {
	switch {
	case fd.IsList() || fd.IsMap():
		return protoElem{fd}
	case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
		return messageShape(fd.Message())
	}
	return nil
}

func (p protoShape) fields() *fieldSet {
	if fs, ok := fieldSets.Load(p.md); ok {
		return fs.(*fieldSet)
	}
	out := map[string]shape{}
	canon := map[string]string{}
	fds := p.md.Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		sh := fieldShape(fd)
		out[fd.JSONName()] = sh
		out[string(fd.Name())] = sh
		if fd.JSONName() != string(fd.Name()) {
			canon[fd.JSONName()] = fd.JSONName()
			canon[string(fd.Name())] = fd.JSONName()
		}
	}
	set := newFieldSet(out)
	set.canon = canon
	fs, _ := fieldSets.LoadOrStore(p.md, set)
	return fs.(*fieldSet)
}

func (p protoShape) elem() shape { return nil }

func (e protoElem) fields() *fieldSet { return nil }

func (e protoElem) elem() shape {
	if e.fd.IsMap() {
		v := e.fd.MapValue()
		if v.Kind() == protoreflect.MessageKind {
			return messageShape(v.Message())
		}
		return nil
	}
	if e.fd.Kind() == protoreflect.MessageKind || e.fd.Kind() == protoreflect.GroupKind {
		return messageShape(e.fd.Message())
	}
	return nil
}

// Location is where in the JSON the error is (docerr.Located).
func (e *Error) Location() (string, int) { return e.Pointer, 0 }
