package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// puppetServiceDir is where Puppet's runit provider looks for the tree: the
// first of its three places that exists. The test mounts its tree there in
// a mount namespace of the puppet run's own, which the machine never sees.
func puppetServiceDir(t testing.TB) string {
	for _, dir := range []string{"/service", "/etc/service", "/var/service"} {
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return dir
		}
	}
	t.Fatal("none of /service, /etc/service, /var/service exists (runit's package makes /etc/service)")
	return ""
}

var puppetChangeRE = regexp.MustCompile(`(?m)^(Notice: /Stage\[main\]/Main/Service.*|Error: .*)$`)

// puppetApply applies manifest with Puppet, the tree dir mounted where its
// runit provider looks, its own files under state; it returns what Puppet
// said of the services and its exit code (--detailed-exitcodes: 2 for
// changes made, 0 for none).
func puppetApply(t testing.TB, dir, state, manifest string) string {
	t.Helper()
	args := []string{"-m", "sh", "-c", `mount --bind "$0" "$1" && shift && exec "$@"`, dir, puppetServiceDir(t),
		"/usr/bin/puppet", "apply", "--detailed-exitcodes", "--color=false", "-e", manifest}
	for _, setting := range []string{"vardir", "confdir", "codedir", "logdir", "rundir"} {
		args = append(args, "--"+setting, filepath.Join(state, setting))
	}
	cmd := exec.Command("unshare", args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin", "HOME=" + state, "LANG=C"}
	r := testbin.RunWithin(t, cmd, svtest.Scaled(120*time.Second))
	var out strings.Builder
	for _, line := range puppetChangeRE.FindAllString(r.Stdout+r.Stderr, -1) {
		if !strings.HasPrefix(line, "Error: Facter:") { // facts it cannot read in a container
			fmt.Fprintln(&out, strings.ReplaceAll(line, filepath.Dir(dir), "DIR"))
		}
	}
	fmt.Fprintf(&out, "exit %d\n", r.Code)
	return out.String()
}

// Puppet's runit provider (which runs runit's sv) manages our services as
// runsv's: ensure running and stopped, enable true and false, and nothing
// to do when applied again.
func TestRunitPuppet(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/lib/ruby/vendor_ruby/puppet/provider/service/runit.rb"); err != nil {
		t.Fatalf("Puppet's runit provider is missing (apt-get install puppet): %v", err)
	}
	said := sideBySide(t, func(t testing.TB, dir string) {
		src := filepath.Join(filepath.Dir(dir), "sv")
		for _, name := range []string{"starts", "stops", "unlinked", "linked"} {
			makeService(t, filepath.Join(src, name), "exec sleep 1000", "")
		}
		for _, name := range []string{"starts", "unlinked"} {
			writeFile(t, filepath.Join(src, name, "down"), "", 0o644)
		}
		testbin.Must(t, os.MkdirAll(dir, 0o755))
		for _, name := range []string{"starts", "stops", "unlinked"} {
			testbin.Must(t, os.Symlink(filepath.Join(src, name), filepath.Join(dir, name)))
		}
	}, func(t testing.TB, dir string) string {
		tr := &transcript{t: t, dir: filepath.Dir(dir)}
		tr.svUntil("down: DIR/service/starts: Ns\n", "status", dir+"/starts")
		tr.svUntil("run: DIR/service/stops: (pid N) Ns\n", "status", dir+"/stops")
		tr.svUntil("down: DIR/service/unlinked: Ns\n", "status", dir+"/unlinked")
		manifest := fmt.Sprintf(`Service { provider => runit, path => "%s" }
service { starts: ensure => running }
service { stops: ensure => stopped }
service { unlinked: enable => false }
service { linked: enable => true }
`, filepath.Join(filepath.Dir(dir), "sv"))
		state := filepath.Join(filepath.Dir(dir), "puppet")
		tr.b.WriteString(puppetApply(t, dir, state, manifest))
		tr.sv("status", dir+"/starts", dir+"/stops")
		tr.b.WriteString(puppetApply(t, dir, state, manifest))
		tr.svUntil("run: DIR/service/linked: (pid N) Ns\n", "status", dir+"/linked")
		return tr.String()
	})
	want := `$ sv status DIR/service/starts
down: DIR/service/starts: Ns
$ sv status DIR/service/stops
run: DIR/service/stops: (pid N) Ns
$ sv status DIR/service/unlinked
down: DIR/service/unlinked: Ns
Notice: /Stage[main]/Main/Service[starts]/ensure: ensure changed 'stopped' to 'running'
Notice: /Stage[main]/Main/Service[stops]/ensure: ensure changed 'running' to 'stopped'
Notice: /Stage[main]/Main/Service[unlinked]/enable: enable changed 'true' to 'false'
Notice: /Stage[main]/Main/Service[linked]/enable: enable changed 'false' to 'true'
exit 2
$ sv status DIR/service/starts DIR/service/stops
run: DIR/service/starts: (pid N) Ns, normally down
down: DIR/service/stops: Ns, normally up
exit 0
$ sv status DIR/service/linked
run: DIR/service/linked: (pid N) Ns
`
	if said != want {
		t.Errorf("under runsvdir, Puppet says\n%s\nwant\n%s", said, want)
	}
}
