/**
 * The machined sequences the fake Talos node "runs", as event scripts: their phases and task names
 * are facts from Talos 1.11.5 internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_sequencer.go
 * (metal platform mode, an installed node) and the task names in v1alpha1_sequencer_tasks.go; the
 * controller publishes them as v1alpha1_controller.go does: SequenceEvent START, per phase a
 * PhaseEvent START, its tasks' TaskEvent START/STOP, PhaseEvent STOP, and SequenceEvent STOP —
 * except that a `reboot`/`shutdown` task never returns (the machine goes down), so nothing after
 * its START is published. Every event carries the actor ID of the API call that started the
 * sequence ("" for sequences started without one, e.g. the reboot after an applied config).
 */
import type { EventLog, ServiceAction } from "./events";

export interface SequencePlan {
  readonly sequence: string;
  readonly phases: readonly (readonly [phase: string, tasks: readonly string[]])[];
}

type Phases = SequencePlan["phases"];

/** `stopAllPhaselist` (metal mode). */
function stopAll(kexec: boolean): Phases {
  return [
    ["stopServices", ["stopServicesForUpgrade"]],
    ["umount", ["unmountPodMounts"]],
    ["unmountBind", ["unmountSystemDiskBindMounts"]],
    ["unmountSystem", ["unmountEphemeralPartition"]],
    ["volumeFinalize", ["teardownLifecycle"]],
    ...(kexec ? ([["kexec", ["kexecPrepare"]]] as const) : []),
    ["stopEverything", ["stopAllServices"]],
  ];
}

/** `Initialize` on an installed metal node with the dashboard on (no wipe, no halt-if-installed). */
export const INITIALIZE: SequencePlan = {
  sequence: "initialize",
  phases: [
    ["systemRequirements", ["enforceKSPPRequirements"]],
    ["earlyServices", ["startUdevd", "startMachined", "startAuditd", "startSyslogd", "startContainerd"]],
    ["usb", ["waitForUSB"]],
    ["meta", ["reloadMeta"]],
    ["dashboard", ["startDashboard"]],
    ["config", ["loadConfig"]],
  ],
};

/** `Install` on an installed node: no phases (the sequence still starts and stops). */
export const INSTALL: SequencePlan = { sequence: "install", phases: [] };

/** `Boot` (metal mode). */
export const BOOT: SequencePlan = {
  sequence: "boot",
  phases: [
    ["memorySizeCheck", ["memorySizeCheck"]],
    ["diskSizeCheck", ["diskSizeCheck"]],
    ["env", ["setUserEnvVars", "waitForCARoots"]],
    ["dbus", ["startDBus"]],
    ["ephemeral", ["mountEphemeralPartition"]],
    ["udevSetup", ["writeUdevRules"]],
    ["userDisks", ["mountUserDisks"]],
    ["userSetup", ["writeUserFiles"]],
    ["startEverything", ["startAllServices"]],
  ],
};

/** `Reboot` (API Reboot, and ApplyConfiguration with a reboot). */
export const REBOOT: SequencePlan = {
  sequence: "reboot",
  phases: [["cleanup", ["stopAllPods"]], ["dbus", ["stopDBus"]], ...stopAll(true), ["reboot", ["reboot"]]],
};

/** `Upgrade` with the default reboot mode, on a node that registers with Kubernetes. */
export const UPGRADE: SequencePlan = {
  sequence: "upgrade",
  phases: [
    ["drain", ["cordonAndDrainNode"]],
    ["cleanup", ["stopAllPods"]],
    ["dbus", ["stopDBus"]],
    ["stopServices", ["stopServicesForUpgrade"]],
    ["unmount", ["unmountPodMounts"]],
    ["unmountBind", ["unmountSystemDiskBindMounts"]],
    ["unmountSystem", ["unmountEphemeralPartition"]],
    ["volumeFinalize", ["teardownLifecycle"]],
    ["upgrade", ["upgrade"]],
    ["meta", ["reloadMeta"]],
    ["kexec", ["kexecPrepare"]],
    ["stopEverything", ["stopAllServices"]],
    ["reboot", ["reboot"]],
  ],
};

/**
 * `Reset` (metal mode). `partitions`: specific system partitions are wiped (then kexec is used,
 * the boot partition not being among them), else the whole system disk (wipe mode ALL).
 */
export function resetPlan(o: {
  graceful: boolean;
  reboot: boolean;
  controlPlane: boolean;
  partitions: boolean;
}): SequencePlan {
  return {
    sequence: "reset",
    phases: [
      ...(o.graceful ? ([["drain", ["cordonAndDrainNode"]]] as const) : []),
      ["cleanup", [o.graceful ? "removeAllPods" : "stopAllPods"]],
      ["dbus", ["stopDBus"]],
      ...(o.graceful && o.controlPlane ? ([["leave", ["leaveEtcd"]]] as const) : []),
      ["preReset", ["sendResetSignal"]],
      ...stopAll(o.partitions),
      ["forceCleanup", ["forceCleanup"]],
      o.partitions ? ["resetSpec", ["resetSystemDiskSpec"]] : ["reset", ["resetSystemDisk"]],
      o.reboot ? ["reboot", ["reboot"]] : ["shutdown", ["shutdown"]],
    ],
  };
}

/** Tasks after whose start the machine is gone. */
const TERMINAL_TASKS = new Set(["reboot", "shutdown"]);

const tick = () => new Promise<void>((r) => setImmediate(r));

function serviceEvent(
  log: EventLog,
  service: string,
  action: ServiceAction,
  message: string,
  healthy?: boolean,
) {
  log.publish({
    type: "ServiceStateEvent",
    service,
    action,
    message,
    ...(healthy === undefined ? {} : { health: { unknown: false, healthy, last_message: "" } }),
  });
}

/**
 * Publishes `plan` on `log` (yielding between events so open streams see them one by one).
 * Returns true when the machine went down at a reboot/shutdown task.
 */
export async function runSequence(
  log: EventLog,
  plan: SequencePlan,
  actorId: string,
  services: readonly string[] = [],
): Promise<boolean> {
  log.publish({ type: "SequenceEvent", sequence: plan.sequence, action: "START" }, actorId);
  for (const [phase, tasks] of plan.phases) {
    await tick();
    log.publish({ type: "PhaseEvent", phase, action: "START" }, actorId);
    for (const task of tasks) {
      log.publish({ type: "TaskEvent", task, action: "START" }, actorId);
      if (TERMINAL_TASKS.has(task)) return true;
      if (task === "stopAllServices") {
        for (const s of services) {
          serviceEvent(log, s, "STOPPING", "Sending SIGTERM to task");
          serviceEvent(log, s, "FINISHED", "Service finished successfully");
        }
      }
      log.publish({ type: "TaskEvent", task, action: "STOP" }, actorId);
    }
    log.publish({ type: "PhaseEvent", phase, action: "STOP" }, actorId);
  }
  log.publish({ type: "SequenceEvent", sequence: plan.sequence, action: "STOP" }, actorId);
  return false;
}

/**
 * What a normal boot publishes before clients can connect (apid starts in `startAllServices`):
 * initialize, install, boot (services reaching Running along the way); the boot's STOP moves the
 * machine to RUNNING. Synchronous: the node publishes it all before it serves.
 */
export function publishBoot(log: EventLog, services: readonly { id: string; running: boolean }[]): void {
  for (const plan of [INITIALIZE, INSTALL, BOOT]) {
    log.publish({ type: "SequenceEvent", sequence: plan.sequence, action: "START" });
    for (const [phase, tasks] of plan.phases) {
      log.publish({ type: "PhaseEvent", phase, action: "START" });
      for (const task of tasks) {
        log.publish({ type: "TaskEvent", task, action: "START" });
        if (task === "startAllServices") {
          for (const s of services) {
            serviceEvent(log, s.id, "PREPARING", "Running pre state");
            if (s.running) serviceEvent(log, s.id, "RUNNING", "Health check successful", true);
          }
        }
        log.publish({ type: "TaskEvent", task, action: "STOP" });
      }
      log.publish({ type: "PhaseEvent", phase, action: "STOP" });
    }
    log.publish({ type: "SequenceEvent", sequence: plan.sequence, action: "STOP" });
  }
}
