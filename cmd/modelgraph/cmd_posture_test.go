package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The posture command: local and --server answers agree, CSV and table
// outputs, and --min-level gates with exit status 3.
func TestPostureCommand(t *testing.T) {
	dir := localStore(t)
	srv := serveAPI(t, nil)
	if out, _, err := runCLI(t, append([]string{"push", "--server", srv.url, "--token-file", tokenFile(t, cliWriteToken)}, docPaths()...)...); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	readTok := tokenFile(t, cliReadToken)
	const dep = "deployment:production/us-east-1/ml-serving/chat-api"
	for _, args := range [][]string{{"posture"}, {"posture", dep}, {"posture", "--kind", "Deployment", "--sort", "name"}} {
		localOut, _, lerr := runCLI(t, append(args, "--data-dir", dir, "-o", "json")...)
		remoteOut, _, rerr := runCLI(t, append(args, "--server", srv.url, "--token-file", readTok, "-o", "json")...)
		if lerr != nil || rerr != nil {
			t.Fatalf("%v: local %v, remote %v\n%s\n%s", args, lerr, rerr, localOut, remoteOut)
		}
		var l, r any
		if err := json.Unmarshal([]byte(localOut), &l); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, localOut)
		}
		if err := json.Unmarshal([]byte(remoteOut), &r); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, remoteOut)
		}
		if !reflect.DeepEqual(strip(l), strip(r)) {
			t.Errorf("%v: local and remote answers differ\nlocal:  %s\nremote: %s", args, localOut, remoteOut)
		}
	}
	out, _, err := runCLI(t, "posture", dep, "--data-dir", dir)
	if err != nil || !strings.Contains(out, "Deployment production/us-east-1/ml-serving/chat-api: L") || !strings.Contains(out, "weights-signed") {
		t.Fatalf("table: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "posture", "--data-dir", dir, "-o", "csv")
	if err != nil || !strings.HasPrefix(out, "id,kind,name,environment,model,level,passed,failed,unknown,missing,weights-signed,") {
		t.Fatalf("csv: %v\n%s", err, out)
	}
	// The lineage documents are unsigned: nothing reaches L1, so a gate
	// at L1 fails with exit status 3, for one subject and for the report.
	for _, args := range [][]string{{"posture", dep}, {"posture"}} {
		_, _, err = runCLI(t, append(args, "--data-dir", dir, "--min-level", "1")...)
		if exitCode(err) != exitBelowLevel || !strings.Contains(err.Error(), "below L1") {
			t.Errorf("%v --min-level 1: %v (exit %d)", args, err, exitCode(err))
		}
	}
	if _, _, err = runCLI(t, "posture", dep, "--data-dir", dir, "--min-level", "0"); err != nil {
		t.Errorf("--min-level 0: %v", err)
	}
	if _, _, err = runCLI(t, "posture", "--data-dir", dir, "--policy", "/nonexistent.yaml"); err == nil {
		t.Error("a missing policy file was accepted")
	}
}
