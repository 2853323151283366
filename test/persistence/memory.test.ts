import { MemoryEventLog, MemorySnapshotStore } from '../../src/persistence/memory-store.ts';
import { runEventLogConformance, runSnapshotStoreConformance } from './conformance.ts';

// Volatile: no reopen, so the durability tests report as skipped.
runEventLogConformance('memory', async () => {
  const log = new MemoryEventLog();
  return { log, cleanup: () => log.close() };
});

runSnapshotStoreConformance('memory', async () => {
  const store = new MemorySnapshotStore();
  return { store, cleanup: () => store.close() };
});
