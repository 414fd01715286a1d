import Foundation
import TailorEngine
import TailorExecutor

/// Interrupting a run (Ctrl-C, SIGTERM from a scheduler) cancels the Slurm jobs it submitted,
/// removes the artifact folders this process was still writing, then exits as the signal would have (128 + its number).
/// Finished artifacts, the training checkpoints a rerun resumes from, and the cache's locks
/// (released by the kernel) are left as they are.
///
/// It ends with `_exit`, not `exit`: `exit` runs the libraries' exit handlers while training
/// threads are still inside OpenBLAS, which then crashes (a run killed mid-step died of
/// SIGSEGV in 12 of 40 tries; 0 of 60 with `_exit`).
enum Interruption {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []
    /// The Slurm backend of this run, whose jobs an interruption cancels.
    nonisolated(unsafe) static var slurm: SlurmBackend?

    static func cleanUp(_ store: ArtifactStore) {
        for number in [SIGINT, SIGTERM, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                slurm?.cancelAll()
                store.removeOwnStaging()
                FileHandle.standardError.write(Data("\ninterrupted: nothing half-written was kept; run again to continue\n".utf8))
                fflush(nil)
                _exit(128 + number)
            }
            source.resume()
            sources.append(source)
        }
    }
}
