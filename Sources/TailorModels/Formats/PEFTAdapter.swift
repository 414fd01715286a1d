import Foundation
import TailorDiagnostics
import TailorRuntime

/// LoRA adapters in Hugging Face PEFT's layout: `adapter_config.json` (`peft_type` LORA, `r`,
/// `lora_alpha`, `target_modules` in Hugging Face names) and `adapter_model.safetensors` with
/// `base_model.model.<module>.lora_A.weight` (r, In) and `lora_B.weight` (Out, r). Llama
/// modules map one to one (`attn.q` → `self_attn.q_proj`); GPT-2's q/k/v adapters become one
/// adapter on the fused `c_attn`, their ranks side by side (an exact rewrite).
public enum PEFTAdapter {
    static let llamaNames = ["attn.q": "self_attn.q_proj", "attn.k": "self_attn.k_proj", "attn.v": "self_attn.v_proj",
                             "attn.o": "self_attn.o_proj", "mlp.gate": "mlp.gate_proj", "mlp.up": "mlp.up_proj", "mlp.down": "mlp.down_proj"]
    static let gpt2Names = ["attn.o": "attn.c_proj", "mlp.up": "mlp.c_fc", "mlp.down": "mlp.c_proj"]

    public static func save(_ model: Adaptable, to folder: String) throws {
        let set = model.adapters
        guard let scale = set.adapters.values.first?.scale else { throw ModelFileError(folder, "the model has no adapters to export") }
        guard set.adapters.values.allSatisfy({ $0.scale == scale }) else { throw ModelFileError(folder, "adapters of different scales cannot share one PEFT config") }
        var tensors: [String: Tensor] = [:]
        var targets = Set<String>()
        var rank = 0
        func put(_ path: String, a: Tensor, b: Tensor) {  // a (In, r), b (r, Out)
            tensors["base_model.model.\(path).lora_A.weight"] = Tensor.noGrad { a.transposed().contiguous() }
            tensors["base_model.model.\(path).lora_B.weight"] = Tensor.noGrad { b.transposed().contiguous() }
            targets.insert(String(path.split(separator: ".").suffix(1).joined()))
            rank = Swift.max(rank, a.shape[1])
        }
        switch model {
        case let llama as Llama:
            guard !llama.config.interleavedRotary || !set.adapters.keys.contains(where: { $0.hasSuffix("attn.q") || $0.hasSuffix("attn.k") }) else {
                throw ModelFileError(folder, "adapters on q or k of a model in GGUF's rotary layout cannot be written for Hugging Face yet; load it from a Hugging Face folder or a run artifact")
            }
            for (name, adapter) in set.adapters {
                let parts = name.split(separator: ".")
                guard parts.count == 4, let hf = llamaNames[parts[2...].joined(separator: ".")] else { continue }
                put("model.layers.\(parts[1]).\(hf)", a: adapter.a, b: adapter.b)
            }
        case let gpt2 as GPT2:
            let c = gpt2.config.width
            for i in gpt2.layers.indices {
                let p = "layers.\(i)."
                let qkv = ["attn.q", "attn.k", "attn.v"].enumerated().compactMap { j, m in set.adapters[p + m].map { (j, $0) } }
                if !qkv.isEmpty {
                    // A: the adapters' A side by side (In, Σr); B: each adapter's B in its block's columns.
                    let a = Tensor.noGrad { Tensor.concat(qkv.map(\.1.a), axis: 1) }
                    let total = a.shape[1]
                    let b = Tensor(zeros: [total, 3 * c])
                    var row = 0
                    for (j, adapter) in qkv {
                        b.slice(axis: 0, row..<row + adapter.rank).slice(axis: 1, j * c..<(j + 1) * c).assign(adapter.b)
                        row += adapter.rank
                    }
                    put("transformer.h.\(i).attn.c_attn", a: a, b: b)
                }
                for (m, hf) in gpt2Names { if let adapter = set.adapters[p + m] { put("transformer.h.\(i).\(hf)", a: adapter.a, b: adapter.b) } }
            }
        default:
            throw ModelFileError(folder, "this architecture's adapters cannot be written in PEFT's layout")
        }
        // PEFT scales by lora_alpha / r. The most common rank is the file's `r`; a module with
        // another rank (GPT-2's fused c_attn holds several) gets `rank_pattern` and `alpha_pattern`
        // entries, alpha always chosen to keep the scale.
        let moduleRanks = tensors.filter { $0.key.hasSuffix(".lora_A.weight") }
            .map { (String($0.key.dropFirst("base_model.model.".count).dropLast(".lora_A.weight".count)), $0.value.shape[0]) }
        rank = Dictionary(grouping: moduleRanks.map(\.1), by: { $0 }).max { $0.value.count < $1.value.count || ($0.value.count == $1.value.count && $0.key > $1.key) }!.key
        var rankPattern: [String: Int] = [:], alphaPattern: [String: Double] = [:]
        for (path, r) in moduleRanks where r != rank {
            rankPattern[path] = r
            alphaPattern[path] = Double(scale) * Double(r)
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Safetensors.write(tensors, metadata: ["format": "pt"], to: folder + "/adapter_model.safetensors")
        let config: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": rank, "lora_alpha": Double(scale) * Double(rank),
            "target_modules": targets.sorted(), "lora_dropout": 0.0, "bias": "none", "fan_in_fan_out": model is GPT2,
            "use_rslora": false, "inference_mode": true, "rank_pattern": rankPattern, "alpha_pattern": alphaPattern,
        ]
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: folder + "/adapter_config.json"))
    }

    /// Reads a PEFT LoRA adapter folder into adapters for `model`: Llama modules one to one;
    /// GPT-2's fused `c_attn` adapter becomes q, k and v adapters sharing its A, each with its
    /// block of B's rows (an exact rewrite). Scales follow `lora_alpha / r` (or `/ √r` with
    /// rsLoRA), per module where `rank_pattern` / `alpha_pattern` say otherwise. Every tensor's
    /// shape is checked against the module it adapts.
    public static func load(from folder: String, into model: Adaptable) throws {
        guard let config = try ModelFileError.jsonObject(folder + "/adapter_config.json"),
              config["peft_type"] as? String == "LORA", let r = (config["r"] as? NSNumber)?.intValue, r > 0,
              let alpha = (config["lora_alpha"] as? NSNumber)?.doubleValue
        else { throw ModelFileError(folder, "has no LoRA adapter_config.json (peft_type LORA, r, lora_alpha)") }
        let rsLoRA = config["use_rslora"] as? Bool ?? false
        let rankPattern = (config["rank_pattern"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.intValue }
        let alphaPattern = (config["alpha_pattern"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.doubleValue }
        if let bad = rankPattern.first(where: { $0.value <= 0 }) {
            throw ModelFileError(folder + "/adapter_config.json", "rank_pattern gives '\(bad.key)' rank \(bad.value); ranks are 1 or more")
        }
        guard alpha.isFinite, alphaPattern.values.allSatisfy(\.isFinite) else {
            throw ModelFileError(folder + "/adapter_config.json", "lora_alpha and alpha_pattern must be finite numbers")
        }
        /// PEFT's pattern lookup: a key names the module path or a suffix of it at a dot.
        func pattern<T>(_ patterns: [String: T], _ path: String) -> T? {
            patterns.first { path == $0.key || path.hasSuffix("." + $0.key) }?.value
        }
        func scale(_ path: String) -> Float {
            let rank = Double(pattern(rankPattern, path) ?? r), a = pattern(alphaPattern, path) ?? alpha
            return Float(rsLoRA ? a / rank.squareRoot() : a / rank)
        }
        let tensors: [String: Tensor]
        do {
            tensors = try Safetensors.read(path: folder + "/adapter_model.safetensors").tensors
        } catch let error as SafetensorsError {
            throw ModelFileError(folder + "/adapter_model.safetensors", error.description)
        }
        let shapes = Dictionary(uniqueKeysWithValues: model.adaptableShapes.map { ($0.0, ($0.1, $0.2)) })
        var matched = Set<String>()
        /// A module's A (In, r) and B (r, Out) from PEFT's lora_A (r, In) and lora_B (Out, r), checked.
        func pair(_ path: String, inputs: Int, outputs: Int) throws -> (Tensor, Tensor)? {
            let key = "base_model.model.\(path)"
            guard let a = tensors[key + ".lora_A.weight"], let b = tensors[key + ".lora_B.weight"] else { return nil }
            matched.insert(path)
            guard a.rank == 2, b.rank == 2, a.shape[1] == inputs, b.shape[0] == outputs, a.shape[0] == b.shape[1] else {
                throw ModelFileError(folder + "/adapter_model.safetensors",
                                     "the adapter of \(path) is A \(a.shape) and B \(b.shape), but the module maps \(inputs) to \(outputs) features")
            }
            return (Tensor.noGrad { a.transposed().contiguous() }, Tensor.noGrad { b.transposed().contiguous() })
        }
        var set = AdapterSet()
        switch model {
        case let llama as Llama:
            for i in llama.layers.indices {
                for (module, hf) in llamaNames {
                    let path = "model.layers.\(i).\(hf)", name = "layers.\(i).\(module)"
                    guard let (inputs, outputs) = shapes[name], let (a, b) = try pair(path, inputs: inputs, outputs: outputs) else { continue }
                    set.adapters[name] = LoRAAdapter(a: a, b: b, scale: scale(path))
                }
            }
        case let gpt2 as GPT2:
            let c = gpt2.config.width
            for i in gpt2.layers.indices {
                let path = "transformer.h.\(i).attn.c_attn"
                if let (a, b) = try pair(path, inputs: c, outputs: 3 * c) {  // b (r, 3C)
                    for (j, module) in ["attn.q", "attn.k", "attn.v"].enumerated() {
                        let block = Tensor.noGrad { b.slice(axis: 1, j * c..<(j + 1) * c).contiguous() }
                        // Each its own copy of A: training the three afterwards updates them independently.
                        set.adapters["layers.\(i).\(module)"] = LoRAAdapter(a: Tensor(a.scalars, shape: a.shape), b: block, scale: scale(path))
                    }
                }
                for (module, hf) in gpt2Names {
                    let path = "transformer.h.\(i).\(hf)", name = "layers.\(i).\(module)"
                    guard let (inputs, outputs) = shapes[name], let (a, b) = try pair(path, inputs: inputs, outputs: outputs) else { continue }
                    set.adapters[name] = LoRAAdapter(a: a, b: b, scale: scale(path))
                }
            }
        default:
            throw ModelFileError(folder, "PEFT adapters are read for Llama and GPT-2 models")
        }
        // GGUF stores q and k with their rotary halves interleaved; an adapter written for Hugging
        // Face's layout would update the wrong rows of them.
        if let llama = model as? Llama, llama.config.interleavedRotary,
           let rotary = set.adapters.keys.sorted().first(where: { $0.hasSuffix("attn.q") || $0.hasSuffix("attn.k") }) {
            throw ModelFileError(folder, "adapts \(rotary), but this model is in GGUF's rotary layout, where Hugging Face's q and k adapters do not fit yet; load the base from a Hugging Face folder, or adapt other modules")
        }
        let unmatched = tensors.keys.filter { $0.hasSuffix(".lora_A.weight") }
            .map { String($0.dropFirst("base_model.model.".count).dropLast(".lora_A.weight".count)) }.filter { !matched.contains($0) }.sorted()
        guard unmatched.isEmpty else {
            throw ModelFileError(folder, "adapts \(unmatched.count) module(s) this model does not have, e.g. \(unmatched[0]) (an adapter for another model?)")
        }
        guard !set.isEmpty else { throw ModelFileError(folder, "no adapter in it matches this model's modules") }
        model.adapters = set
    }
}
