import Foundation
import TailorRuntime

/// A training node's checkpoint in its scratch folder: parameters, optimizer state and where
/// the run stands (step, data order position, losses so far) in one safetensors file, written
/// atomically. A killed run resumes from it and ends bit-identical to an uninterrupted one:
/// the data order and every other random choice derive from the seed and the step.
struct Checkpoint {
    var step: Int
    var epoch: Int
    var position: Int
    var losses: [Float]
    var targetTokens: Int

    static func path(_ scratch: String) -> String { scratch + "/checkpoint.safetensors" }

    static func save(_ c: Checkpoint, parameters: [(String, Tensor)], optimizer: any Optimizer, scratch: String) throws {
        var tensors: [String: Tensor] = [:]
        for (name, p) in parameters { tensors["param." + name] = Tensor.noGrad { p.contiguous() } }
        for (name, t) in optimizer.state() { tensors["optimizer." + name] = t }
        let state = try JSONSerialization.data(withJSONObject: ["step": c.step, "epoch": c.epoch, "position": c.position,
                                                                "losses": c.losses.map(Double.init), "target_tokens": c.targetTokens])
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try Safetensors.write(tensors, metadata: ["tailor.checkpoint": String(decoding: state, as: UTF8.self)], to: path(scratch))
    }

    /// Restores parameters and optimizer from the scratch folder's checkpoint, if there is a
    /// usable one; a damaged checkpoint is ignored (training starts over), never half-used.
    static func restore(parameters: [(String, Tensor)], optimizer: inout any Optimizer, scratch: String) -> Checkpoint? {
        guard FileManager.default.fileExists(atPath: path(scratch)),
              let (tensors, metadata) = try? Safetensors.read(path: path(scratch)),
              let text = metadata["tailor.checkpoint"],
              let state = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              let step = state["step"] as? Int, let epoch = state["epoch"] as? Int, let position = state["position"] as? Int
        else { return nil }
        for (name, p) in parameters {
            guard let saved = tensors["param." + name], saved.shape == p.shape else { return nil }
        }
        var optimizerState: [String: Tensor] = [:]
        for (name, t) in tensors where name.hasPrefix("optimizer.") { optimizerState[String(name.dropFirst("optimizer.".count))] = t }
        guard (try? optimizer.load(state: optimizerState)) != nil else { return nil }
        Tensor.noGrad { for (name, p) in parameters { p.assign(tensors["param." + name]!) } }
        return Checkpoint(step: step, epoch: epoch, position: position,
                          losses: (state["losses"] as? [Double] ?? []).map(Float.init), targetTokens: state["target_tokens"] as? Int ?? 0)
    }
}
