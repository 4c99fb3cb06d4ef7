package sbom

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// cdxXMLFiles is every CycloneDX XML document in the repository's
// testdata (the shared SBOM fixtures, the GUAC examples, the AI-BOMs).
func cdxXMLFiles(t testing.TB) map[string][]byte {
	return testdataDocs(t, "CycloneDX XML", 10, func(s sniffed) bool { return s.kind == kindCycloneDX && s.xml })
}

// sameXMLDecode decodes data with decodeCDXXML (the fast path, with its
// fallback) and with cyclonedx-go's decoder alone, and compares.
func sameXMLDecode(data []byte) error {
	fast, slow := new(cdx.BOM), new(cdx.BOM)
	ferr := decodeCDXXML(data, fast)
	serr := decodeCDXXMLReflective(data, slow)
	if fmt.Sprint(ferr) != fmt.Sprint(serr) {
		return fmt.Errorf("errors differ: fast path %v, cyclonedx-go %v", ferr, serr)
	}
	if serr == nil && !reflect.DeepEqual(fast, slow) {
		return fmt.Errorf("the decoded BOMs differ:\nfast %+v\nslow %+v", fast, slow)
	}
	return nil
}

// cdxXMLBase is a small BOM of every shape the fast path handles.
const cdxXMLBase = `<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" serialNumber="urn:uuid:1" version="2">
  <metadata>
    <timestamp>2024-01-01T00:00:00Z</timestamp>
    <tools><tool><vendor>v</vendor><name>t</name><hashes><hash alg="MD5">00</hash></hashes></tool></tools>
    <authors><author bom-ref="au"><name>A</name><email>a@x</email></author></authors>
    <component type="application" bom-ref="root"><name>app</name><version>1</version></component>
    <properties><property name="p">v</property></properties>
  </metadata>
  <components>
    <component type="library" bom-ref="a" mime-type="m">
      <publisher>P</publisher><group>g</group><name>a</name><version>1</version>
      <description>d</description><scope>required</scope>
      <hashes><hash alg="SHA-256">ab</hash><hash alg="SHA-1">cd</hash></hashes>
      <licenses><license acknowledgement="declared"><id>MIT</id><url>u</url></license><expression bom-ref="e" acknowledgement="concluded">MIT OR X</expression></licenses>
      <copyright>c</copyright><cpe>cpe:/a</cpe><purl>pkg:npm/a@1</purl>
      <externalReferences><reference type="vcs"><url>https://x</url><comment>c</comment><hashes><hash alg="MD5">1</hash></hashes></reference></externalReferences>
      <properties><property name="q">w</property></properties>
      <components><component type="file"><name>f</name></component></components>
    </component>
  </components>
  <dependencies>
    <dependency ref="root"><dependency ref="a"/></dependency>
    <dependency ref="a"/>
  </dependencies>
</bom>
`

// TestCDXXMLFastDecodeMatches: on every CycloneDX XML in testdata, and
// on variants of a small BOM covering what the tokenizer must reproduce
// or hand back (entities, CDATA, comments, namespaces and prefixes,
// processing instructions, '\r', invalid UTF-8, "]]>", duplicates,
// unknown and unhandled elements, bad nesting, trailing bytes),
// decodeCDXXML gives exactly cyclonedx-go's BOM (reflect.DeepEqual,
// which also tells a nil slice from an empty one) or its error. The two
// corpus fixtures must take the fast path whole, or it would be dead
// weight.
func TestCDXXMLFastDecodeMatches(t *testing.T) {
	files := cdxXMLFiles(t)
	for f, data := range files {
		if err := sameXMLDecode(data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, f := range []string{"../../testdata/sbom/cdx-dropwizard-1.3.15.xml", "../../testdata/sbom/guac-laravel-cyclonedx.xml"} {
		var bom cdx.BOM
		if err := decodeCDXXMLFast(files[f], &bom); err != nil {
			t.Errorf("%s: the fast path fell back: %v", f, err)
		} else if bom.Components == nil || len(*bom.Components) == 0 || bom.Dependencies == nil || bom.SpecVersion == 0 {
			t.Errorf("%s: the fast path decoded too little", f)
		}
		// The fuzz seed made of its head takes the fast path too.
		head := cdxXMLHead(files[f], 2)
		if err := decodeCDXXMLFast(head, &cdx.BOM{}); err != nil || len(head) > 8<<10 {
			t.Errorf("%s: the fuzz seed of %d bytes: %v", f, len(head), err)
		}
	}

	base := cdxXMLBase
	rep := func(old, new string) string {
		if !strings.Contains(base, old) {
			t.Fatalf("variant: %q not in the base", old)
		}
		return strings.Replace(base, old, new, 1)
	}
	variants := map[string]string{
		"plain":               base,
		"no declaration":      strings.TrimPrefix(base, `<?xml version="1.0" encoding="UTF-8"?>`),
		"other declaration":   rep(`encoding="UTF-8"`, `encoding="ISO-8859-1"`),
		"version 1.1":         rep(`version="1.0"`, `version="1.1"`),
		"comment before root": rep(`?>`, `?><!-- c -->`),
		"doctype":             rep(`?>`, `?><!DOCTYPE bom>`),
		"pi in body":          rep(`<metadata>`, `<metadata><?pi x?>`),
		"comment in text":     rep(`<name>a</name>`, `<name>a<!-- x -->b</name>`),
		"bad comment":         rep(`<name>a</name>`, `<name>a<!-- x -- y -->b</name>`),
		"empty comment":       rep(`<name>a</name>`, `<name>a<!---->b</name>`),
		"cdata":               rep(`<name>a</name>`, `<name> <![CDATA[a<&>]]]]> b </name>`),
		"cdata unterminated":  rep(`<name>a</name>`, `<name><![CDATA[a</name>`),
		"entities":            rep(`<name>a</name>`, `<name>&lt;&gt;&amp;&apos;&quot;</name>`),
		"numeric entity":      rep(`<name>a</name>`, `<name>&#65;&#x42;</name>`),
		"unknown entity":      rep(`<name>a</name>`, `<name>&nbsp;</name>`),
		"bare ampersand":      rep(`<name>a</name>`, `<name>a & b</name>`),
		"entity in attribute": rep(`bom-ref="a"`, `bom-ref="a&amp;b&quot;"`),
		"lt in attribute":     rep(`bom-ref="a"`, `bom-ref="a<b"`),
		"single quotes":       rep(`bom-ref="a"`, `bom-ref='a"b'`),
		"unquoted attribute":  rep(`bom-ref="a"`, `bom-ref=a`),
		"spaces in tags":      rep(`<name>a</name>`, `<name  >a</name  >`),
		"cr in text":          rep(`<name>a</name>`, "<name>a\r\nb\rc</name>"),
		"cr in attribute":     rep(`bom-ref="a"`, "bom-ref=\"a\r\nb\""),
		"tab newline":         rep(`<name>a</name>`, "<name>\ta\n b </name>"),
		"control char":        rep(`<name>a</name>`, "<name>a\x01</name>"),
		"invalid utf-8":       rep(`<name>a</name>`, "<name>a\xff</name>"),
		"non-ascii":           rep(`<name>a</name>`, `<name>é€😀</name>`),
		"fffe":                rep(`<name>a</name>`, "<name>\uFFFE</name>"),
		"]]> in text":         rep(`<name>a</name>`, `<name>a]]>b</name>`),
		"]] in text":          rep(`<name>a</name>`, `<name>a]]b]</name>`),
		"child in string":     rep(`<name>a</name>`, `<name>a<b x="1">z<c/></b>c</name>`),
		"duplicate name":      rep(`<name>a</name>`, `<name>a</name><name>b</name>`),
		"duplicate licenses":  rep(`<copyright>`, `<licenses><license><name>N</name></license></licenses><copyright>`),
		"empty licenses":      rep(`<copyright>`, `<licenses/><copyright>`),
		"duplicate metadata":  rep(`<components>`, `<metadata><component type="x"><hashes><hash alg="MD5">1</hash></hashes></component></metadata><components>`),
		"duplicate attribute": rep(`bom-ref="a"`, `bom-ref="a" bom-ref="b"`),
		"unknown element":     rep(`<publisher>`, `<foo a="1"><bar>x</bar></foo><publisher>`),
		"unhandled field":     rep(`<publisher>`, `<supplier><name>s</name></supplier><publisher>`),
		"unknown in list":     rep(`<hash alg="SHA-1">`, `<x/><hash alg="SHA-1">`),
		"empty lists":         rep(`<copyright>`, `<hashes/><externalReferences></externalReferences><copyright>`),
		"bad license child":   rep(`<license acknowledgement`, `<foo/><license acknowledgement`),
		"license text":        rep(`<id>MIT</id>`, `<id>MIT</id><text>t</text>`),
		"expression detailed": rep(`<expression bom-ref`, `<expression-detailed expression="x"/><expression bom-ref`),
		"prefixed element":    rep(`<publisher>`, `<x:publisher xmlns:x="urn:x">`),
		"prefixed attribute":  rep(`bom-ref="a"`, `x:bom-ref="a"`),
		"child xmlns":         rep(`<component type="library"`, `<component xmlns="urn:other" type="library"`),
		"no xmlns":            rep(` xmlns="http://cyclonedx.org/schema/bom/1.5"`, ``),
		"unknown xmlns":       rep(`bom/1.5`, `bom/9.9`),
		"xmlns entity":        rep(`bom/1.5"`, `bom/1.5&amp;"`),
		"two xmlns":           rep(`serialNumber`, `xmlns="http://cyclonedx.org/schema/bom/1.4" serialNumber`),
		"version spaces":      rep(`version="2"`, `version=" 2 "`),
		"version empty":       rep(`version="2"`, `version=""`),
		"version bad":         rep(`version="2"`, `version="x"`),
		"wrong root":          strings.Replace(strings.Replace(base, "<bom ", "<bomx ", 1), "</bom>", "</bomx>", 1),
		"mismatched end":      rep(`<name>a</name>`, `<name>a</nam>`),
		"trailing garbage":    base + "<<<&&",
		"truncated":           base[:len(base)/2],
		"tools components":    rep(`<tools><tool><vendor>v</vendor><name>t</name><hashes><hash alg="MD5">00</hash></hashes></tool></tools>`, `<tools><components><component type="application"><name>t</name></component></components></tools>`),
		"tools both":          rep(`</tool></tools>`, `</tool><components><component type="application"><name>t</name></component></components></tools>`),
		"tools empty":         rep(`<tools><tool><vendor>v</vendor><name>t</name><hashes><hash alg="MD5">00</hash></hashes></tool></tools>`, `<tools/>`),
		"tools services":      rep(`</tool></tools>`, `</tool><services/></tools>`),
		"dependency provides": rep(`<dependency ref="a"/>`, `<dependency ref="a"><provides ref="root"/><dependency ref="b"><dependency ref="c"/></dependency>t</dependency>`),
		"dependency no ref":   rep(`<dependency ref="a"/>`, `<dependency><dependency/></dependency>`),
		"bom properties":      rep(`<dependencies>`, `<properties><property name="x">y</property></properties><externalReferences><reference type="website"><url>u</url></reference></externalReferences><dependencies>`),
		"bom unknown":         rep(`<metadata>`, `<BOMFormat>CycloneDX</BOMFormat><metadata>`),
		"bom services":        rep(`<dependencies>`, `<services/><dependencies>`),
		"text in struct":      rep(`<publisher>`, `stray text &amp; more<publisher>`),
		"attribute no space":  rep(`type="library" bom-ref="a"`, `type="library"bom-ref="a"`),
		"space around equals": rep(`bom-ref="a"`, "bom-ref \n= \t\"a\""),
		"self-closing space":  rep(`<dependency ref="a"/>`, `<dependency ref="a" />`),
		"slash no gt":         rep(`<dependency ref="a"/>`, `<dependency ref="a"/ >`),
		"name with dot":       rep(`<publisher>`, `<x.y-z_1>q</x.y-z_1><publisher>`),
		"name non-ascii":      rep(`<publisher>`, `<é>q</é><publisher>`),
	}
	for name, v := range variants {
		if err := sameXMLDecode([]byte(v)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The variants must exercise the fast path, not only the fallback.
	var bom cdx.BOM
	if err := decodeCDXXMLFast([]byte(variants["plain"]), &bom); err != nil {
		t.Errorf("plain: the fast path fell back: %v", err)
	}
}

// FuzzCDXXMLDecodeMatches: for any input, decodeCDXXML (fast path and
// fallback) and cyclonedx-go's decoder give the same BOM or the same
// error.
func FuzzCDXXMLDecodeMatches(f *testing.F) {
	for _, data := range cdxXMLFiles(f) {
		if len(data) <= 16<<10 { // larger seeds slow every mutation and minimisation down
			f.Add(data)
		}
	}
	// The fast path's shapes: the small BOM, and the corpus fixtures' head
	// (the fixtures themselves are too large for seeds).
	f.Add([]byte(cdxXMLBase))
	for _, name := range []string{"cdx-dropwizard-1.3.15.xml", "guac-laravel-cyclonedx.xml"} {
		data, err := os.ReadFile("../../testdata/sbom/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(cdxXMLHead(data, 2))
	}
	f.Add([]byte(`<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><metadata><tools><tool><name>t</name></tool></tools></metadata>` +
		`<components><component type="library" bom-ref="a"><name><![CDATA[a&b]]></name><hashes><hash alg="MD5">1</hash></hashes>` +
		`<licenses><license><id>MIT</id></license><expression>A &amp; B</expression></licenses><!-- c --></component></components>` +
		`<dependencies><dependency ref="a"><dependency ref="b"/></dependency></dependencies></bom>`))
	// Fragments, for the splices below.
	for _, s := range []string{"a&amp;b&#65;\r\n", "<![CDATA[x]]>", "<!-- c -->", `<x a="1">y<?p?></x>`,
		`<hashes><hash alg="MD5">1</hash></hashes>`, `<licenses><license><id>MIT</id></license><expression>A</expression></licenses>`,
		`<components><component type="library" bom-ref="b"><name>n</name><supplier/></component></components>`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := sameXMLDecode(data); err != nil {
			t.Fatal(err)
		}
		// The same bytes spliced into a BOM the fast path takes: as a
		// string field's content, an attribute's value and a component's
		// content, so that most inputs reach the fast path's text,
		// entity, comment, CDATA and element handling rather than an
		// early syntax error.
		if len(data) > 4<<10 {
			return
		}
		for _, sp := range [][2]string{{`<name>a</name>`, "<name>%s</name>"}, {`bom-ref="a"`, `bom-ref="%s"`}, {`<publisher>`, "%s<publisher>"}} {
			doc := strings.Replace(cdxXMLBase, sp[0], strings.Replace(sp[1], "%s", string(data), 1), 1)
			if err := sameXMLDecode([]byte(doc)); err != nil {
				t.Fatalf("spliced at %s: %v", sp[0], err)
			}
		}
	})
}

// cdxXMLHead is a CycloneDX XML document cut after its first n
// top-level components (none nested) and closed.
func cdxXMLHead(data []byte, n int) []byte {
	end := bytes.Index(data, []byte("<components>"))
	for range n {
		end += bytes.Index(data[end:], []byte("</component>")) + len("</component>")
	}
	return append(data[:end:end], "</components></bom>"...)
}

// BenchmarkCDXXMLDecode: the fast CycloneDX XML decode against
// cyclonedx-go's over the two XML fixtures of the bulk corpus.
func BenchmarkCDXXMLDecode(b *testing.B) {
	var docs [][]byte
	var size int64
	for _, f := range []string{"../../testdata/sbom/cdx-dropwizard-1.3.15.xml", "../../testdata/sbom/guac-laravel-cyclonedx.xml"} {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, data)
		size += int64(len(data))
	}
	for _, mode := range []struct {
		name string
		fast bool
	}{{"cyclonedx-go", false}, {"fast", true}} {
		b.Run(mode.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				for _, d := range docs {
					var bom cdx.BOM
					var err error
					if mode.fast {
						err = decodeCDXXMLFast(d, &bom)
					} else {
						err = decodeCDXXMLReflective(d, &bom)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// TestCDXXMLRandomDocsMatch: 5,000 random BOMs of the shapes the fast
// path handles (every handled element and attribute, in random order and
// number, repeated, empty, nested; text made of plain, non-ASCII, entity,
// CDATA, comment and child-element pieces), with now and then something
// it must hand back (a numeric reference, '\r', a prefix, an unhandled
// field, an element of no field): decodeCDXXML gives exactly
// cyclonedx-go's BOM or error, and most take the fast path. A seeded
// generator, so a failure reproduces.
func TestCDXXMLRandomDocsMatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 7))
	g := &cdxXMLGen{rng: rng}
	fast := 0
	const n = 5000
	for i := range n {
		doc := g.bom()
		if err := sameXMLDecode([]byte(doc)); err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		if decodeCDXXMLFast([]byte(doc), &cdx.BOM{}) == nil {
			fast++
		}
	}
	if fast < n/3 {
		t.Errorf("only %d of %d random documents took the fast path", fast, n)
	}
	t.Logf("%d of %d took the fast path", fast, n)
}

type cdxXMLGen struct {
	rng *rand.Rand
	b   strings.Builder
}

func (g *cdxXMLGen) pick(s ...string) string { return s[g.rng.IntN(len(s))] }
func (g *cdxXMLGen) chance(p float64) bool   { return g.rng.Float64() < p }

// text is character data: mostly what the fast path takes, rarely what
// it hands back.
func (g *cdxXMLGen) text(attr bool) string {
	var b strings.Builder
	for range g.rng.IntN(4) {
		switch k := g.rng.IntN(20); {
		case k < 6:
			b.WriteString(g.pick("a", "pkg:npm/x@1", "MIT", " ", "\n  ", "\t", "x y", "]]", "]", ">", "'"))
		case k < 9:
			b.WriteString(g.pick("&amp;", "&lt;", "&gt;", "&apos;", "&quot;"))
		case k < 11:
			b.WriteString(g.pick("é", "€", "😀", "\u00a0"))
		case k < 13 && !attr:
			b.WriteString(g.pick("<![CDATA[a&b<c>]]>", "<![CDATA[]]>", "<![CDATA[ ]] ]]>"))
		case k < 15 && !attr:
			b.WriteString(g.pick("<!-- c -->", "<!---->", `<x a="1">y</x>`, "<y/>"))
		case k == 15 && g.chance(0.05):
			b.WriteString(g.pick("&#65;", "\r\n", "\x01", "&nbsp;", "]]>", "<", "&"))
		case k == 16 && attr:
			b.WriteString(`"`)
		default:
			b.WriteString(g.pick("1.0", "required", "SHA-256", "library"))
		}
	}
	return b.String()
}

func (g *cdxXMLGen) attrs(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		for range g.rng.IntN(3) - 0 {
			if g.chance(0.4) {
				continue
			}
			q := g.pick(`"`, `'`)
			v := strings.ReplaceAll(g.text(true), q, "")
			b.WriteString(g.pick(" ", "\n ", "  ") + n + g.pick("=", " = ") + q + v + q)
		}
	}
	if g.chance(0.05) {
		b.WriteString(g.pick(` x="1"`, ` x="2"`, ` x="3"`, ` x:y="1"`, ` xmlns="urn:x"`))
	}
	return b.String()
}

func (g *cdxXMLGen) elem(name, attrs string, body func()) {
	g.b.WriteString("<" + name + attrs)
	if body == nil && g.chance(0.5) {
		g.b.WriteString(g.pick("/>", " />"))
		return
	}
	g.b.WriteString(">")
	if body != nil {
		body()
	}
	g.b.WriteString("</" + name + g.pick(">", " >"))
}

func (g *cdxXMLGen) str(name string) {
	g.elem(name, "", func() { g.b.WriteString(g.text(false)) })
}

// some calls f a random number of times (0..max), with white space,
// comments and, rarely, foreign elements between.
func (g *cdxXMLGen) some(max int, f func()) {
	for range g.rng.IntN(max + 1) {
		switch g.rng.IntN(12) {
		case 0:
			g.b.WriteString("\n  ")
		case 1:
			g.b.WriteString("<!-- note -->")
		case 2:
			if g.chance(0.1) {
				g.b.WriteString(g.pick(`<unknownThing a="1"><b>c</b></unknownThing>`, "stray", `<p:x xmlns:p="urn:p"/>`, "<?pi x?>"))
			}
		}
		f()
	}
}

func (g *cdxXMLGen) list(wrapper, item string, max int, f func()) {
	g.elem(wrapper, "", func() { g.some(max, func() { f() }) })
	_ = item
}

func (g *cdxXMLGen) hashes() {
	g.list("hashes", "hash", 3, func() {
		g.elem("hash", g.attrs("alg"), func() { g.b.WriteString(g.text(false)) })
	})
}

func (g *cdxXMLGen) properties() {
	g.list("properties", "property", 3, func() {
		g.elem("property", g.attrs("name"), func() { g.b.WriteString(g.text(false)) })
	})
}

func (g *cdxXMLGen) extRefs() {
	g.list("externalReferences", "reference", 2, func() {
		g.elem("reference", g.attrs("type"), func() {
			g.some(4, func() {
				switch g.rng.IntN(5) {
				case 0, 1:
					g.str("url")
				case 2:
					g.str("comment")
				case 3:
					g.hashes()
				default:
					g.properties()
				}
			})
		})
	})
}

func (g *cdxXMLGen) licenses() {
	g.elem("licenses", "", func() {
		g.some(3, func() {
			switch g.rng.IntN(10) {
			case 0:
				g.b.WriteString(g.pick(`<expression-detailed expression="x"/>`, "<other/>", "text", "\n", "<!-- c -->"))
			case 1, 2, 3:
				g.elem("expression", g.attrs("acknowledgement", "bom-ref"), func() { g.b.WriteString(g.text(false)) })
			default:
				g.elem("license", g.attrs("bom-ref", "acknowledgement"), func() {
					g.some(3, func() {
						g.str(g.pick("id", "name", "url", "id", "name", "url", "id", "name", "url", "text"))
					})
				})
			}
		})
	})
}

func (g *cdxXMLGen) component(depth int) {
	g.elem("component", g.attrs("type", "bom-ref", "mime-type"), func() {
		g.some(12, func() {
			switch k := g.rng.IntN(16); {
			case k < 7:
				g.str(g.pick("name", "version", "group", "publisher", "author", "description", "scope", "copyright", "cpe", "purl", "versionRange"))
			case k == 7:
				g.hashes()
			case k == 8:
				g.licenses()
			case k == 9:
				g.extRefs()
			case k == 10:
				g.properties()
			case k == 11 && depth < 3:
				g.list("components", "component", 2, func() { g.component(depth + 1) })
			case k == 12 && g.chance(0.05):
				g.b.WriteString(g.pick("<supplier><name>s</name></supplier>", "<tags><tag>t</tag></tags>", "<modified>true</modified>"))
			}
		})
	})
}

func (g *cdxXMLGen) bom() string {
	g.b.Reset()
	if g.chance(0.8) {
		g.b.WriteString(g.pick(`<?xml version="1.0" encoding="UTF-8"?>`, `<?xml version="1.0"?>`, `<?xml version='1.0' encoding='utf-8'?>`) + "\n")
	}
	ns := g.pick(` xmlns="http://cyclonedx.org/schema/bom/1.2"`, ` xmlns="http://cyclonedx.org/schema/bom/1.4"`, ` xmlns="http://cyclonedx.org/schema/bom/1.6"`, "", ` xmlns="urn:other"`)
	g.elem("bom", ns+g.attrs("serialNumber", "version"), func() {
		g.some(6, func() {
			switch g.rng.IntN(7) {
			case 0:
				g.elem("metadata", "", func() {
					g.some(6, func() {
						switch g.rng.IntN(7) {
						case 0:
							g.str("timestamp")
						case 1:
							g.elem("tools", "", func() {
								if g.chance(0.5) {
									g.some(2, func() {
										g.elem("tool", "", func() {
											g.some(5, func() {
												switch g.rng.IntN(5) {
												case 0:
													g.hashes()
												case 1:
													g.extRefs()
												default:
													g.str(g.pick("vendor", "name", "version"))
												}
											})
										})
									})
								} else {
									g.list("components", "component", 2, func() { g.component(2) })
								}
							})
						case 2:
							g.list("authors", "author", 2, func() {
								g.elem("author", g.attrs("bom-ref"), func() {
									g.some(3, func() { g.str(g.pick("name", "email", "phone")) })
								})
							})
						case 3, 4:
							g.component(1)
						case 5:
							g.licenses()
						default:
							g.properties()
						}
					})
				})
			case 1, 2:
				g.list("components", "component", 4, func() { g.component(0) })
			case 3:
				g.list("dependencies", "dependency", 4, func() {
					g.elem("dependency", g.attrs("ref"), func() {
						g.some(3, func() {
							g.elem(g.pick("dependency", "dependency", "provides", "other"), g.attrs("ref"), nil)
						})
					})
				})
			case 4:
				g.properties()
			case 5:
				g.extRefs()
			default:
				g.b.WriteString(g.pick("<BOMFormat>CycloneDX</BOMFormat>", "<specVersion>1.5</specVersion>", "text"))
			}
		})
	})
	return g.b.String()
}
