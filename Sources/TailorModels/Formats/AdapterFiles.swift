import Foundation
import TailorDiagnostics
import TailorRuntime

/// A model's LoRA adapters beside its weights: `adapter_model.safetensors` (A as
/// `<module>.lora_a` (In, r) and B as `<module>.lora_b` (r, Out), Tailor's module names) and
/// `adapter_config.json` (rank, scale, modules). Loading attaches them to the model, so a
/// fine-tuned artifact serves as base + adapters without merging.
public enum AdapterFiles {
    public static let weights = "adapter_model.safetensors", config = "adapter_config.json"

    public static func save(_ set: AdapterSet, to folder: String) throws {
        guard !set.isEmpty else { return }
        var tensors: [String: Tensor] = [:]
        for (name, adapter) in set.adapters {
            tensors[name + ".lora_a"] = Tensor.noGrad { adapter.a.contiguous() }
            tensors[name + ".lora_b"] = Tensor.noGrad { adapter.b.contiguous() }
        }
        try Safetensors.write(tensors, metadata: ["format": "tailor-lora"], to: folder + "/" + weights)
        let first = set.adapters.values.first!
        let json: [String: Any] = ["tailor_format": 1, "r": first.rank, "scale": Double(first.scale),
                                   "target_modules": set.adapters.keys.sorted()]
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: folder + "/" + config))
    }

    /// Attaches the folder's adapters to `model`, if it has any.
    public static func load(from folder: String, into model: Adaptable) throws {
        let path = folder + "/" + weights
        guard FileProbe.kind(path) != .missing else { return }
        guard let json = try ModelFileError.jsonObject(folder + "/" + config), let scale = json["scale"] as? Double
        else { throw ModelFileError(folder + "/" + config, "is missing or has no scale") }
        let tensors: [String: Tensor]
        do {
            tensors = try Safetensors.read(path: path).tensors
        } catch let error as SafetensorsError {
            throw ModelFileError(path, error.description)
        }
        let shapes = Dictionary(model.adaptableShapes.map { ($0.0, ($0.1, $0.2)) }, uniquingKeysWith: { a, _ in a })
        var set = AdapterSet()
        for name in Set(tensors.keys.map { String($0.dropLast(".lora_a".count)) }) where tensors[name + ".lora_a"] != nil {
            guard let (inputs, outputs) = shapes[name], let a = tensors[name + ".lora_a"], let b = tensors[name + ".lora_b"],
                  a.shape.count == 2, b.shape.count == 2, a.shape[0] == inputs, b.shape[1] == outputs, a.shape[1] == b.shape[0]
            else { throw ModelFileError(path, "the adapter '\(name)' does not fit this model") }
            set.adapters[name] = LoRAAdapter(a: a, b: b, scale: Float(scale))
        }
        model.adapters = set
    }
}
