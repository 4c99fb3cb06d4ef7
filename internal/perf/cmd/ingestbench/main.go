// Command ingestbench measures bulk ingest beside GUAC v1.1.0 on the same
// corpus (deploy/dev/bench-ingest-guac.sh runs it; docs/performance.md has
// the row):
//
//	ingestbench corpus -src DIR... -out DIR -copies N   copy the fixtures N times, each copy's SBOMs with a unique serial number
//	ingestbench guac -dir DIR                           ingest every file through GUAC's own pipeline, in process
//	ingestbench time -- CMD ARGS...                     run CMD, print its wall time, CPU time and peak RSS
//
// Each prints one JSON object on stdout.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/guacsec/guac/pkg/assembler"
	"github.com/guacsec/guac/pkg/assembler/backends"
	_ "github.com/guacsec/guac/pkg/assembler/backends/keyvalue" // registers "keyvalue"
	"github.com/guacsec/guac/pkg/assembler/clients/helpers"
	"github.com/guacsec/guac/pkg/assembler/kv/memmap"
	"github.com/guacsec/guac/pkg/assembler/server"
	"github.com/guacsec/guac/pkg/handler/processor"
	guacdsse "github.com/guacsec/guac/pkg/handler/processor/dsse"
	"github.com/guacsec/guac/pkg/ingestor/parser/common"
	guaccsaf "github.com/guacsec/guac/pkg/ingestor/parser/csaf"
	guaccdx "github.com/guacsec/guac/pkg/ingestor/parser/cyclonedx"
	guacvex "github.com/guacsec/guac/pkg/ingestor/parser/open_vex"
	guacslsa "github.com/guacsec/guac/pkg/ingestor/parser/slsa"
	guacspdx "github.com/guacsec/guac/pkg/ingestor/parser/spdx"
	"go.uber.org/zap"

	"github.com/modelgraph/modelgraph/ingest"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: ingestbench corpus|guac|time ...")
		os.Exit(2)
	}
	var out any
	var err error
	switch os.Args[1] {
	case "corpus":
		out, err = corpusCmd(os.Args[2:])
	case "guac":
		out, err = guacCmd(os.Args[2:])
	case "time":
		out, err = timeCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ingestbench:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

var (
	cdxSerialJSON = regexp.MustCompile(`"serialNumber"\s*:\s*"[^"]*"`)
	cdxSerialXML  = regexp.MustCompile(`serialNumber="[^"]*"`)
	spdxNamespace = regexp.MustCompile(`("documentNamespace"\s*:\s*")([^"]*)"`)
	vexID         = regexp.MustCompile(`("@id"\s*:\s*")([^"]*)"`)
)

// uniquify gives copy k of a document its own identity: a CycloneDX
// serial number, an SPDX document namespace, an OpenVEX @id. Other
// documents (in-toto statements and envelopes: changing them changes what
// was signed) are left as they are, so their copies are duplicates.
func uniquify(name string, data []byte, k int) []byte {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", name, k))
	uuid := fmt.Sprintf("urn:uuid:%x-%x-4%x-8%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	uuid = uuid[:23] + uuid[24:] // 4xxx: one hex digit too many
	t := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(t, []byte("<")) && bytes.Contains(data, []byte("cyclonedx.org/schema/bom")):
		if cdxSerialXML.Match(data) {
			return cdxSerialXML.ReplaceAll(data, []byte(`serialNumber="`+uuid+`"`))
		}
		i := bytes.Index(data, []byte("<bom "))
		return slicesInsert(data, i+5, []byte(`serialNumber="`+uuid+`" `))
	case bytes.Contains(data, []byte(`"bomFormat"`)):
		if cdxSerialJSON.Match(data) {
			return cdxSerialJSON.ReplaceAll(data, []byte(`"serialNumber": "`+uuid+`"`))
		}
		i := bytes.IndexByte(data, '{')
		return slicesInsert(data, i+1, []byte(`"serialNumber": "`+uuid+`",`))
	case bytes.Contains(data, []byte(`"spdxVersion"`)):
		return spdxNamespace.ReplaceAll(data, fmt.Appendf(nil, `${1}${2}-copy%d"`, k))
	case bytes.Contains(data, []byte("openvex")) || bytes.Contains(data, []byte(`"statements"`)):
		return vexID.ReplaceAll(data, fmt.Appendf(nil, `${1}${2}-copy%d"`, k))
	}
	return data
}

func slicesInsert(b []byte, i int, v []byte) []byte {
	out := make([]byte, 0, len(b)+len(v))
	out = append(out, b[:i]...)
	out = append(out, v...)
	return append(out, b[i:]...)
}

func corpusCmd(args []string) (any, error) {
	fs := flag.NewFlagSet("corpus", flag.ExitOnError)
	var src multi
	fs.Var(&src, "src", "fixture directory (repeatable)")
	out := fs.String("out", "", "output directory")
	copies := fs.Int("copies", 20, "copies of each fixture")
	skip := fs.String("skip", "invalid", "leave out fixtures whose name contains this (the deliberately broken ones)")
	_ = fs.Parse(args)
	var files []string
	for _, d := range src {
		es, err := os.ReadDir(d)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if e.Type().IsRegular() && (*skip == "" || !strings.Contains(e.Name(), *skip)) {
				files = append(files, filepath.Join(d, e.Name()))
			}
		}
	}
	sort.Strings(files)
	var n, size int
	for k := range *copies {
		dir := filepath.Join(*out, fmt.Sprintf("copy%02d", k))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			data = uniquify(filepath.Base(f), data, k)
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
				return nil, err
			}
			n++
			size += len(data)
		}
	}
	return map[string]any{"fixtures": len(files), "documents": n, "bytes": size}, nil
}

type inProcess struct{ h http.Handler }

func (c inProcess) Do(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// guacDoc classifies a file for GUAC the way its guessers would (GUAC's
// guesser package cannot be linked beside sigstore-go: see ingest/sbom),
// using modelgraph's detection of the top-level shape.
func guacDoc(name string, data []byte) (*processor.Document, func() common.DocumentParser, error) {
	d := &processor.Document{Blob: data, Format: processor.FormatJSON, ChildLogger: zap.NewNop().Sugar(),
		SourceInformation: processor.SourceInformation{Collector: "bench", Source: name}}
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("<")) {
		d.Format = processor.FormatXML
	}
	f, err := ingest.Detect(data, "")
	if err != nil {
		return nil, nil, err
	}
	switch f {
	case ingest.FormatCycloneDX:
		d.Type = processor.DocumentCycloneDX
		return d, guaccdx.NewCycloneDXParser, nil
	case ingest.FormatSPDX:
		d.Type = processor.DocumentSPDX
		return d, guacspdx.NewSpdxParser, nil
	case ingest.FormatOpenVEX:
		d.Type = processor.DocumentOpenVEX
		return d, guacvex.NewOpenVEXParser, nil
	case ingest.FormatCSAF:
		d.Type = processor.DocumentCsaf
		return d, guaccsaf.NewCsafParser, nil
	case ingest.FormatDSSE:
		d.Type = processor.DocumentDSSE
		var p guacdsse.DSSEProcessor
		if err := p.ValidateSchema(d); err != nil {
			return nil, nil, err
		}
		kids, err := p.Unpack(d)
		if err != nil || len(kids) != 1 {
			return nil, nil, fmt.Errorf("DSSE unpack: %v (%d documents)", err, len(kids))
		}
		kids[0].Type, kids[0].Format = processor.DocumentITE6SLSA, processor.FormatJSON
		kids[0].ChildLogger, kids[0].SourceInformation = d.ChildLogger, d.SourceInformation
		return kids[0], guacslsa.NewSLSAParser, nil
	case ingest.FormatStatement:
		d.Type = processor.DocumentITE6SLSA
		return d, guacslsa.NewSLSAParser, nil
	}
	return nil, nil, fmt.Errorf("no GUAC parser for %s", f)
}

// guacCmd ingests every file under -dir through GUAC v1.1.0's parsers and
// bulk assembler into its in-memory keyvalue backend (GraphQL served in
// process), one document at a time as guacone does.
func guacCmd(args []string) (any, error) {
	fl := flag.NewFlagSet("guac", flag.ExitOnError)
	dir := fl.String("dir", "", "corpus directory")
	_ = fl.Parse(args)
	ctx := context.Background()
	be, err := backends.Get("keyvalue", ctx, memmap.GetStore())
	if err != nil {
		return nil, err
	}
	client := graphql.NewClient("http://guac/query", inProcess{server.GetGraphqlServer(ctx, be)})
	assemble := helpers.GetBulkAssembler(ctx, zap.NewNop().Sugar(), client)
	start := time.Now()
	var accepted, rejected, size int
	reasons := map[string]int{}
	err = filepath.WalkDir(*dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		size += len(data)
		reject := func(err error) {
			rejected++
			reasons[filepath.Base(p)+": "+trunc(err.Error(), 120)]++
		}
		d, newParser, err := guacDoc(p, data)
		if err != nil {
			reject(err)
			return nil
		}
		parser := newParser()
		if err := parser.Parse(ctx, d); err != nil {
			reject(err)
			return nil
		}
		preds := parser.GetPredicates(ctx)
		if preds == nil {
			reject(fmt.Errorf("no predicates"))
			return nil
		}
		if _, err := assemble([]assembler.IngestPredicates{*preds}); err != nil {
			reject(err)
			return nil
		}
		accepted++
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"accepted": accepted, "rejected": rejected, "bytes": size, "seconds": time.Since(start).Seconds(), "rejections": reasons}, nil
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// timeCmd runs a command and reports its wall time, CPU time and peak RSS
// (from wait4's rusage).
func timeCmd(args []string) (any, error) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("time: no command")
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// Peak anonymous and file-backed RSS, sampled: the store's mapped file
	// grows with the graph, the heap should not grow with the documents.
	var peakAnon, peakFile int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			a, f := rss(cmd.Process.Pid)
			peakAnon, peakFile = max(peakAnon, a), max(peakFile, f)
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	close(stop)
	<-sampled
	if cmd.ProcessState == nil {
		return nil, err
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	load, _ := os.ReadFile("/proc/loadavg")
	return map[string]any{
		"command": strings.Join(args, " "), "exit": cmd.ProcessState.ExitCode(),
		"wallSeconds": wall.Seconds(), "userSeconds": time.Duration(ru.Utime.Nano()).Seconds(),
		"sysSeconds": time.Duration(ru.Stime.Nano()).Seconds(), "maxRSSMiB": float64(ru.Maxrss) / 1024,
		"loadAfter": strings.Fields(string(load))[0], "peakRssAnonMiB": float64(peakAnon) / 1024, "peakRssFileMiB": float64(peakFile) / 1024,
	}, nil
}

// rss returns RssAnon and RssFile of pid in KiB (0 once it has exited).
func rss(pid int) (anon, file int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		var n int64
		fmt.Sscan(f[1], &n)
		switch f[0] {
		case "RssAnon:":
			anon = n
		case "RssFile:", "RssShmem:":
			file += n
		}
	}
	return anon, file
}
