import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launcherGone } from '../../src/master/host/launcher.js';

describe("the launcher's exit (npm start)", () => {
  it('stops only under a package manager script, once the parent changed', () => {
    assert.equal(launcherGone({ underScript: true, startPpid: 40, ppid: 40 }), false);
    assert.equal(launcherGone({ underScript: true, startPpid: 40, ppid: 1 }), true);
    // A subreaper (systemd --user, a container's init) adopts it: gone all the same.
    assert.equal(launcherGone({ underScript: true, startPpid: 40, ppid: 77 }), true);
    // nohup, a shell that exits, a daemon: a new parent is normal.
    assert.equal(launcherGone({ underScript: false, startPpid: 40, ppid: 1 }), false);
    // Started by init itself: there is no launcher to lose.
    assert.equal(launcherGone({ underScript: true, startPpid: 1, ppid: 1 }), false);
  });
});
