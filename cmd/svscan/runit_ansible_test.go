package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// runitSources makes, beside the tree dir, the directory sv/ of service
// definitions that runit's tools link into it (/etc/sv beside
// /etc/service): web, which counts the HUPs it gets in the file hups and
// is linked, idle, normally down and linked, and spare, not linked.
func runitSources(t testing.TB, dir string) {
	src := filepath.Join(filepath.Dir(dir), "sv")
	makeService(t, filepath.Join(src, "web"), "trap 'echo >>hups' HUP\nwhile :; do sleep 0.2; done", "")
	makeService(t, filepath.Join(src, "idle"), "exec sleep 1000", "")
	writeFile(t, filepath.Join(src, "idle", "down"), "", 0o644)
	makeService(t, filepath.Join(src, "spare"), "exec sleep 1000", "")
	testbin.Must(t, os.MkdirAll(dir, 0o755))
	for _, name := range []string{"web", "idle"} {
		testbin.Must(t, os.Symlink(filepath.Join(src, name), filepath.Join(dir, name)))
	}
}

// ansibleTasks are the tasks of the playbook, each a name and the
// community.general.runit arguments; every state is asked for twice, the
// second time to see it change nothing.
var ansibleTasks = [][2]string{
	{"web stopped", "name: web, state: stopped"},
	{"web stopped again", "name: web, state: stopped"},
	{"web started", "name: web, state: started"},
	{"web started again", "name: web, state: started"},
	{"web restarted", "name: web, state: restarted"},
	{"web reloaded", "name: web, state: reloaded"},
	{"idle started", "name: idle, state: started"},
	{"idle disabled", "name: idle, enabled: no"},
	{"idle disabled again", "name: idle, enabled: no"},
	{"spare enabled", "name: spare, enabled: yes"},
	{"spare enabled again", "name: spare, enabled: yes"},
}

// ansibleResult is what the json callback says of one task.
type ansibleResult struct {
	Changed bool   `json:"changed"`
	Failed  bool   `json:"failed"`
	Msg     string `json:"msg"`
	Sv      struct {
		State     string `json:"state"`
		Enabled   bool   `json:"enabled"`
		FullState string `json:"full_state"`
	} `json:"sv"`
}

// Ansible's community.general.runit (which runs runit's sv) manages our
// services as runsv's: started, stopped, restarted and reloaded, each
// idempotent where it should be, and enabled yes and no.
func TestRunitAnsible(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/lib/python3/dist-packages/ansible_collections/community/general/plugins/modules/runit.py"); err != nil {
		t.Fatalf("Ansible's community.general is missing (apt-get install ansible): %v", err)
	}
	said := sideBySide(t, runitSources, func(t testing.TB, dir string) string {
		root := filepath.Dir(dir)
		tr := &transcript{t: t, dir: root}
		tr.svUntil("run: DIR/service/web: (pid N) Ns\n", "status", dir+"/web")
		tr.svUntil("down: DIR/service/idle: Ns\n", "status", dir+"/idle")

		var play strings.Builder
		play.WriteString("- hosts: localhost\n  gather_facts: false\n  tasks:\n")
		for _, task := range ansibleTasks {
			fmt.Fprintf(&play, "    - name: %s\n      community.general.runit: {%s, service_dir: %s, service_src: %s}\n",
				task[0], task[1], dir, filepath.Join(root, "sv"))
		}
		playbook, tmp := filepath.Join(root, "play.yml"), filepath.Join(root, "ansible")
		writeFile(t, playbook, play.String(), 0o644)
		cmd := exec.Command("/usr/bin/ansible-playbook", "-i", "localhost,", "-c", "local", playbook)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + tmp, "ANSIBLE_LOCAL_TEMP=" + tmp, "ANSIBLE_REMOTE_TEMP=" + tmp,
			"ANSIBLE_STDOUT_CALLBACK=json", "ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3", "ANSIBLE_NOCOLOR=1"}
		r := testbin.RunWithin(t, cmd, svtest.Scaled(120*time.Second))
		var out struct {
			Plays []struct {
				Tasks []struct {
					Task  struct{ Name string } `json:"task"`
					Hosts map[string]ansibleResult
				} `json:"tasks"`
			} `json:"plays"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || r.Code != 0 || len(out.Plays) != 1 {
			t.Fatalf("ansible-playbook: %v: %+v", err, r)
		}
		for _, task := range out.Plays[0].Tasks {
			res := task.Hosts["localhost"]
			fmt.Fprintf(&tr.b, "%s: changed %v, failed %v%s", task.Task.Name, res.Changed, res.Failed, res.Msg)
			if strings.Contains(task.Task.Name, "enabled") {
				// What the scanner has made of the new link by
				// then is a matter of timing, under runsvdir too.
				tr.b.WriteString("\n")
				continue
			}
			fmt.Fprintf(&tr.b, "; %s, enabled %v: %s", res.Sv.State, res.Sv.Enabled, tr.normal(res.Sv.FullState))
		}
		if b, err := os.ReadFile(filepath.Join(root, "sv", "web", "hups")); err != nil || string(b) != "\n" {
			t.Errorf("web got %q HUPs (%v), want one", b, err)
		}
		// Not linked, its supervisor ends, and the service with it.
		tr.svUntil("fail: DIR/sv/idle: runsv not running\n", "status", root+"/sv/idle")
		tr.svUntil("run: DIR/service/spare: (pid N) Ns\n", "status", dir+"/spare")
		return tr.String()
	})
	want := `$ sv status DIR/service/web
run: DIR/service/web: (pid N) Ns
$ sv status DIR/service/idle
down: DIR/service/idle: Ns
web stopped: changed true, failed false; stopped, enabled true: down: DIR/service/web: Ns, normally up
web stopped again: changed false, failed false; stopped, enabled true: down: DIR/service/web: Ns, normally up
web started: changed true, failed false; started, enabled true: run: DIR/service/web: (pid N) Ns
web started again: changed false, failed false; started, enabled true: run: DIR/service/web: (pid N) Ns
web restarted: changed true, failed false; started, enabled true: run: DIR/service/web: (pid N) Ns
web reloaded: changed true, failed false; started, enabled true: run: DIR/service/web: (pid N) Ns
idle started: changed true, failed false; started, enabled true: run: DIR/service/idle: (pid N) Ns, normally down
idle disabled: changed true, failed false; unknown, enabled true: fail: DIR/service/idle: unable to change to service directory: file does not exist
idle disabled again: changed false, failed false; unknown, enabled false: fail: DIR/service/idle: unable to change to service directory: file does not exist
spare enabled: changed true, failed false
spare enabled again: changed false, failed false
$ sv status DIR/sv/idle
fail: DIR/sv/idle: runsv not running
exit 1
$ sv status DIR/service/spare
run: DIR/service/spare: (pid N) Ns
`
	if said != want {
		t.Errorf("under runsvdir, Ansible says\n%s\nwant\n%s", said, want)
	}
}
