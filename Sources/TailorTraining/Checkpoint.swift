import Crypto
import Foundation
import TailorDiagnostics
import TailorRuntime

/// A training node's checkpoint in its scratch folder: parameters, optimizer state and where
/// the run stands (step, data order position, losses so far) in one safetensors file, written
/// atomically, its header holding the SHA-256 of its tensor bytes. With evals during training
/// it also holds early stopping's state (the evals so far, the best weights, the patience
/// spent). A killed run resumes from it and ends bit-identical to an uninterrupted one: the
/// data order and every other random choice derive from the seed and the step. A checkpoint whose bytes do not match is never
/// resumed from.
struct Checkpoint {
    var step: Int
    var epoch: Int
    var position: Int
    var losses: [Float]
    var targetTokens: Int
    /// Early stopping's state: the evals so far, evals since the best one, and the best
    /// weights (in the order of the trained parameters) with their loss.
    var evals: [HeldOutResult] = []
    var stale = 0
    var best: (loss: Double, weights: [Tensor])? = nil
    /// The objective's own state (`Objective.resumeState`).
    var objective: [String: [Double]] = [:]

    static func path(_ scratch: String) -> String { scratch + "/checkpoint.safetensors" }

    static let digestKey = "tailor.checkpoint.sha256"

    static func save(_ c: Checkpoint, parameters: [(String, Tensor)], optimizer: any Optimizer, scratch: String) throws {
        var tensors: [String: PackedTensor] = [:]
        for (name, p) in parameters { tensors["param." + name] = try PackedTensor(Tensor.noGrad { p.contiguous() }, as: .f32) }
        for (name, t) in optimizer.state() { tensors["optimizer." + name] = try PackedTensor(t, as: .f32) }
        if let best = c.best {
            for ((name, _), w) in zip(parameters, best.weights) { tensors["best." + name] = try PackedTensor(w, as: .f32) }
        }
        // Eval losses are kept as their bit patterns: a resumed run compares against exactly these.
        var fields: [String: Any] = ["step": c.step, "epoch": c.epoch, "position": c.position, "losses": c.losses.map(Double.init),
                                     "target_tokens": c.targetTokens, "stale": c.stale,
                                     "evals": c.evals.map { [$0.step, Int(bitPattern: UInt($0.loss.bitPattern))] },
                                     "eval_metrics": c.evals.map { $0.metrics.mapValues { Int(bitPattern: UInt($0.bitPattern)) } },
                                     "objective": c.objective.mapValues { $0.map { Int(bitPattern: UInt($0.bitPattern)) } }]
        if let best = c.best { fields["best_loss"] = Int(bitPattern: UInt(best.loss.bitPattern)) }
        let state = try JSONSerialization.data(withJSONObject: fields)
        // The data section is the tensors' bytes in name order, as the writer lays them out.
        var h = SHA256()
        for name in tensors.keys.sorted() { h.update(data: tensors[name]!.bytes) }
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try Safetensors.write(packed: tensors, metadata: ["tailor.checkpoint": String(decoding: state, as: UTF8.self),
                                                          digestKey: Hex.string(h.finalize())], to: path(scratch))
    }

    enum Restored {
        case none
        case resumed(Checkpoint)
        /// The file was there but unusable (why); it has been removed.
        case discarded(String)
    }

    /// Restores parameters and optimizer from the scratch folder's checkpoint, if there is a
    /// usable one. A damaged one (bytes that do not match its digest, another model's shapes)
    /// is deleted and reported, and training starts over; it is never half-used.
    static func restore(parameters: [(String, Tensor)], optimizer: inout any Optimizer, scratch: String) -> Restored {
        let file = path(scratch)
        guard FileProbe.kind(file) != .missing else { return .none }
        switch load(file, parameters: parameters, optimizer: &optimizer) {
        case .success(let checkpoint): return .resumed(checkpoint)
        case .failure(let why):
            try? FileManager.default.removeItem(atPath: file)
            return .discarded(why.description)
        }
    }

    private static func load(_ file: String, parameters: [(String, Tensor)], optimizer: inout any Optimizer) -> Result<Checkpoint, TrainingError> {
        let data: Data
        let metadata: [String: String], base: Int
        do {
            data = try FileProbe.map(file)
            (_, metadata, base) = try Safetensors.header(data)
        } catch { return .failure(TrainingError("it cannot be read (\(error))")) }
        guard let recorded = metadata[digestKey] else { return .failure(TrainingError("it has no digest")) }
        guard Hex.string(SHA256.hash(data: data[(data.startIndex + base)...])) == recorded else {
            return .failure(TrainingError("its bytes do not match its digest"))
        }
        guard let (tensors, _) = try? Safetensors.parse(data), let text = metadata["tailor.checkpoint"],
              let state = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              let step = state["step"] as? Int, let epoch = state["epoch"] as? Int, let position = state["position"] as? Int
        else { return .failure(TrainingError("its training state is unreadable")) }
        for (name, p) in parameters {
            guard let saved = tensors["param." + name], saved.shape == p.shape else {
                return .failure(TrainingError("it does not hold this model's '\(name)'"))
            }
        }
        var optimizerState: [String: Tensor] = [:]
        for (name, t) in tensors where name.hasPrefix("optimizer.") { optimizerState[String(name.dropFirst("optimizer.".count))] = t }
        do {
            try optimizer.load(state: optimizerState)
        } catch { return .failure(TrainingError("its optimizer state does not fit (\(error))")) }
        func double(_ bits: Int) -> Double { Double(bitPattern: UInt64(UInt(bitPattern: bits))) }
        var best: (loss: Double, weights: [Tensor])?
        if let bits = state["best_loss"] as? Int {
            var weights: [Tensor] = []
            for (name, p) in parameters {
                guard let w = tensors["best." + name], w.shape == p.shape else {
                    return .failure(TrainingError("its best weights do not hold this model's '\(name)'"))
                }
                weights.append(w)
            }
            best = (double(bits), weights)
        }
        let metrics = state["eval_metrics"] as? [[String: Int]] ?? []
        let evals = (state["evals"] as? [[Int]] ?? []).enumerated().compactMap { i, e in
            e.count == 2 ? HeldOutResult(step: e[0], loss: double(e[1]), metrics: (i < metrics.count ? metrics[i] : [:]).mapValues(double)) : nil
        }
        Tensor.noGrad { for (name, p) in parameters { p.assign(tensors["param." + name]!) } }
        return .success(Checkpoint(step: step, epoch: epoch, position: position,
                                   losses: (state["losses"] as? [Double] ?? []).map(Float.init), targetTokens: state["target_tokens"] as? Int ?? 0,
                                   evals: evals, stale: state["stale"] as? Int ?? 0, best: best,
                                   objective: (state["objective"] as? [String: [Int]] ?? [:]).mapValues { $0.map(double) }))
    }
}
