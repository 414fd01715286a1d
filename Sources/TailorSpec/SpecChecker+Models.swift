import Foundation
import TailorDiagnostics

extension SpecChecker {
    mutating func checkModels() {
        for (name, _) in entries("models") { _ = modelInfo(name) }
        // Sampled answers come from a decoder; data is checked before models are known.
        for (_, v) in entries("data") {
            guard let ref = v["sample"]?["model"], let name = ref.string, let info = models[name] else { continue }
            expectKind(ref, info, [.languageModel], "sampling answers")
        }
    }

    /// Derives (once) what model `name` is: kind, architecture, dimensions, tokenizer.
    @discardableResult
    mutating func modelInfo(_ name: String) -> ModelInfo? {
        if let known = models[name] { return known }
        guard !cyclic.contains("models.\(name)"), let v = entry(.model, name) else { return nil }
        var info: ModelInfo
        if let arch = v["arch"]?.string {
            info = builtModel(name, v, arch)
        } else if v["load"] != nil {
            info = loadedModel(name, v)
        } else if let base = v["from"]?.string {
            info = derivedModel(name, v, base)
        } else {
            info = ModelInfo(name: name, method: "unknown", hasAdapter: false, value: v)
        }
        models[name] = info
        if let train = v["train"] ?? v["pretrain"] { checkSequence(train, info) }
        return info
    }

    private mutating func builtModel(_ name: String, _ v: Value, _ archName: String) -> ModelInfo {
        let arch = Architecture.named(archName)
        var info = ModelInfo(
            name: name, kind: arch?.family == .encoder ? .encoder : .languageModel, arch: arch,
            method: v["pretrain"] != nil ? "pretrain" : "init", tokenizer: v["tokenizer"]?.string,
            hasAdapter: false, value: v)
        if v["size"] == nil { diagnostics.error(.missingSize, at: v.location) }
        if v["tokenizer"] == nil { diagnostics.error(.missingTokenizer, at: v.location) }
        if let size = v["size"], let layers = size["layers"]?.int, let width = size["width"]?.int,
            let heads = size["heads"]?.int, let context = size["context"]?.int
        {
            let kv = size["kv_heads"]?.int ?? heads
            if width % heads != 0 { diagnostics.error(.heads(width, heads), at: size["heads"]?.location) }
            if size["kv_heads"] != nil, archName != "llama" {
                diagnostics.error(.kvHeadsNotLlama, at: size["kv_heads"]?.location)
            } else if heads % kv != 0 {
                diagnostics.error(.kvHeads(heads, kv), at: size["kv_heads"]?.location)
            }
            let defaultMLP = archName == "llama" ? ((width * 8 / 3 + 63) / 64) * 64 : 4 * width
            let vocab = v["tokenizer"]?.string.flatMap { tokenizers[$0]?.vocab }
            info.dims = Dimensions(
                layers: layers, width: width, heads: heads, kvHeads: kv, context: context,
                mlp: size["mlp"]?.int ?? defaultMLP, vocab: vocab, tiedHead: archName != "llama")
        }
        if let pretrain = v["pretrain"] {
            if info.kind == .encoder {
                diagnostics.error(.wrongModel("'pretrain'", needs: "a decoder ('gpt2' or 'llama')", got: "a 'bert' encoder"),
                                  at: v["pretrain"]?.location)
            }
            requireTrainData(pretrain, for: "pretraining")
            expectFormat(pretrain["data"], DataFormat.languageModeling, for: "pretraining")
        }
        return info
    }

    /// A model loaded from files: its header (GGUF metadata or `config.json`, read by the
    /// header reader the checker is given) gives the architecture and dimensions for checks and
    /// estimates; an encoder's `model_type` makes it one.
    private mutating func loadedModel(_ name: String, _ v: Value) -> ModelInfo {
        expectFile(v["load"])
        let path = v["load"]?.string ?? ""
        var info = ModelInfo(name: name, kind: .languageModel, method: "load", tokenizer: "file:\(path)", hasAdapter: false, value: v)
        if let header = headers?(CheckedSpec.resolve(path, in: directory)) {
            info.arch = header.arch
            info.dims = header.dims
            info.kind = header.arch.family == .encoder ? .encoder : .languageModel
        }
        return info
    }

    private mutating func derivedModel(_ name: String, _ v: Value, _ baseName: String) -> ModelInfo {
        let base = modelInfo(baseName)
        let method = ModelSchema.methods.first { v[$0] != nil } ?? "unknown"
        var info = ModelInfo(
            name: name, kind: base?.kind, arch: base?.arch, dims: base?.dims, base: baseName, method: method,
            tokenizer: base?.tokenizer, hasAdapter: (base?.hasAdapter ?? false) || method == "lora", value: v)
        if let t = v["tokenizer"] {
            diagnostics.error(.derivedTokenizer(baseName), at: t.location,
                              notes: [Note("'\(baseName)' is defined here", at: entry(.model, baseName)?.location)])
        }
        let train = v["train"]
        let importsAdapter = method == "lora" && v["lora"]?["load"] != nil
        if importsAdapter { expectFile(v["lora"]?["load"], folder: true) }
        if train == nil, method != "unknown", !importsAdapter {
            diagnostics.error(.missingKey("train", in: "a '\(method)' model"), at: v.location)
        }
        let what = "'train.data' of a '\(method)' model"
        func needBase(_ kinds: [ModelKind], _ words: String, _ me: inout SpecChecker) {
            guard let kind = base?.kind, !kinds.contains(kind) else { return }
            me.diagnostics.error(.wrongModel("'\(method)'", needs: words, got: kind.rawValue), at: v["from"]?.location,
                                 notes: [Note("'\(baseName)' is defined here", at: me.entry(.model, baseName)?.location)])
        }
        switch method {
        case "finetune", "lora":
            needBase([.languageModel, .classifier, .reward], "a language model", &self)
            if let train {
                requireTrainData(train, for: "fine-tuning")
                expectFormat(train["data"], DataFormat.languageModeling, for: what)
            }
            if method == "lora", let arch = base?.arch { checkTargets(v["lora"]?["targets"], arch) }
            if method == "finetune", let arch = base?.arch { checkTargets(v["finetune"]?["freeze"], arch, allowEmpty: true) }
        case "head":
            needBase([.languageModel, .encoder], "a language model or an encoder", &self)
            info.kind = .classifier
            if let arch = base?.arch { checkTargets(v["head"]?["unfreeze"], arch, allowEmpty: true) }
            if let unfreeze = v["head"]?["unfreeze"], v["head"]?["freeze"]?.string == "none" {
                diagnostics.error(.needs("unfreeze", ["freeze: backbone"]), at: unfreeze.location,
                                  notes: [Note("with `freeze: none` the whole backbone trains already")])
            }
            if let train {
                requireTrainData(train, for: "a task head")
                expectFormat(train["data"], [.classification], for: what)
                // A head learns each example's label from one row: there are no tokens to pack or predict.
                for key in ["packing", "train_on_inputs"] where train[key]?.bool == true {
                    diagnostics.error(.notForMethod(key, "head"), at: train[key]?.location,
                                      notes: [Note("a classification head reads one example per row and learns its label, not its tokens; remove '\(key)'")])
                }
            }
        case "continual":
            needBase([.languageModel], "a language model", &self)
            for task in v["continual"]?["tasks"]?.list ?? [] {
                expectFormat(task, DataFormat.languageModeling, for: "a continual task")
            }
            let adapters = v["continual"]?["mitigation"]?["adapters"]
            if let arch = base?.arch {
                checkTargets(v["continual"]?["lora"]?["targets"], arch)
                checkTargets(adapters?["targets"], arch)
            }
            if let lora = v["continual"]?["lora"], let adapters {
                diagnostics.error(Message("'lora' and the 'adapters' mitigation both say which adapters the stages train"), at: lora.location,
                                  notes: [Note("'adapters' trains a fresh adapter per task, with its own rank and targets; 'lora' one adapter through every stage. Keep one"),
                                          Note("the 'adapters' mitigation is here", at: adapters.location)])
            }
            if let eval = train?["eval"] {
                diagnostics.error(.notForMethod("eval", "continual"), at: eval.location,
                                  notes: [Note("a continual model's stages are scored by an eval with `metrics: [forgetting]`; remove 'train.eval'")])
            }
            if v["continual"]?["mitigation"]?["lwf"] != nil, let packing = train?["packing"], packing.bool == true {
                diagnostics.error(.notForMethod("packing", "continual"), at: packing.location,
                                  notes: [Note("distillation ('lwf') compares the teacher's and the student's outputs row by row; remove 'packing'")])
            }
            if let replay = v["continual"]?["mitigation"]?["replay"], replay.number == 1 {
                diagnostics.error(.outOfRange("1", "a share below 1"), at: replay.location,
                                  notes: [Note("with 'replay: 1' a stage would train on earlier tasks only; 0.2 to 0.5 is usual, or a count of examples in 'replay_examples'")])
            }
            if let gamma = v["continual"]?["mitigation"]?["gamma"], let tasks = v["continual"]?["tasks"]?.list, tasks.count < 3 {
                diagnostics.error(Message("'gamma' decays the Fisher information of stages two or more back, but with \(tasks.count) tasks EWC only ever weighs one stage's"),
                                  at: gamma.location, notes: [Note("remove 'gamma', or give three tasks or more")])
            }
            if let d = train?["data"] {
                diagnostics.error(.needs("data", ["finetune", "lora", "head", "reward", "dpo", "ppo"]), at: d.location,
                                  notes: [Note("a continual model trains on its 'continual.tasks'")])
            }
        case "reward":
            needBase([.languageModel], "a language model", &self)
            refuseRowSettings(train, "reward")
            info.kind = .reward
            if let arch = base?.arch { checkTargets(v["reward"]?["lora"]?["targets"], arch) }
            if let train {
                requireTrainData(train, for: "reward model training")
                expectFormat(train["data"], [.preference], for: what)
            }
        case "dpo":
            needBase([.languageModel], "a language model", &self)
            refuseRowSettings(train, "dpo")
            if let train {
                requireTrainData(train, for: "DPO")
                expectFormat(train["data"], [.preference], for: what)
            }
            if let ref = v["dpo"]?["reference"], let r = ref.string, let refInfo = modelInfo(r) {
                expectKind(ref, refInfo, [.languageModel], "a DPO reference")
                expectSameTokenizer(ref, refInfo, info)
            }
            // Written by the user (a default has no location) and meaningless for IPO.
            if let smoothing = v["dpo"]?["label_smoothing"], smoothing.location != nil, v["dpo"]?["loss"]?.string == "ipo" {
                diagnostics.error(Message("'label_smoothing' is for `loss: sigmoid`; IPO has no label smoothing"), at: smoothing.location,
                                  notes: [Note("remove 'label_smoothing', or use `loss: sigmoid` (conservative DPO)")])
            }
            if let arch = base?.arch { checkTargets(v["dpo"]?["lora"]?["targets"], arch) }
        case "ppo":
            needBase([.languageModel], "a language model", &self)
            refuseRowSettings(train, "ppo")
            if let train {
                requireTrainData(train, for: "PPO")
                expectFormat(train["data"], [.instruction, .chat, .queries, .preference], for: "'train.data' (the prompts) of a 'ppo' model")
            }
            if let ref = v["ppo"]?["reward"], let r = ref.string, let rm = modelInfo(r) {
                expectKind(ref, rm, [.reward], "'ppo.reward'")
                expectSameTokenizer(ref, rm, info)
            }
            if let horizon = v["ppo"]?["horizon"], horizon.location != nil, v["ppo"]?["target_kl"] == nil {
                diagnostics.error(Message("'horizon' is for the adaptive KL controller, which only runs with 'target_kl'"), at: horizon.location,
                                  notes: [Note("add `target_kl: 6` (nats per response), or remove 'horizon' for a fixed coefficient")])
            }
            if let eval = train?["eval"] {
                diagnostics.error(.notForMethod("eval", "ppo"), at: eval.location,
                                  notes: [Note("PPO has no held-out loss to stop on; score the policy with an eval in `evals:` instead")])
            }
            if let arch = base?.arch { checkTargets(v["ppo"]?["lora"]?["targets"], arch) }
        default:
            break
        }
        return info
    }

    /// Reward models, DPO and PPO read each pair or prompt whole, prompt as context: the
    /// language-model row settings would change nothing, so they are refused where written.
    mutating func refuseRowSettings(_ train: Value?, _ method: String) {
        for key in ["packing", "train_on_inputs", "sequence"] {
            guard let value = train?[key], value.location != nil else { continue }
            diagnostics.error(.notForMethod(key, method), at: value.location,
                              notes: [Note("a '\(method)' model reads each \(method == "ppo" ? "prompt and its response" : "pair's answers") whole, "
                                           + "with the prompt as context; remove '\(key)'")])
        }
    }

    mutating func requireTrainData(_ train: Value, for what: String) {
        if train["data"] == nil { diagnostics.error(.missingKey("data", in: "the training settings of \(what)"), at: train.location) }
    }

    mutating func expectKind(_ ref: Value, _ model: ModelInfo, _ kinds: [ModelKind], _ what: String) {
        guard let kind = model.kind, !kinds.contains(kind) else { return }
        diagnostics.error(.wrongModel(what, needs: kinds.map(\.rawValue).joined(separator: " or "), got: kind.rawValue),
                          at: ref.location, notes: [Note("'\(model.name)' is defined here", at: model.value.location)])
    }

    mutating func expectSameTokenizer(_ ref: Value, _ other: ModelInfo, _ me: ModelInfo) {
        guard let a = other.tokenizer, let b = me.tokenizer, a != b else { return }
        diagnostics.error(
            Message("'\(other.name)' reads text with tokenizer '\(a)', but this model uses '\(b)'"), at: ref.location,
            notes: [Note("models that score each other's tokens must share one tokenizer")])
    }

    /// Every LoRA target (or freeze pattern) must name a module of the architecture.
    mutating func checkTargets(_ list: Value?, _ arch: Architecture, allowEmpty: Bool = false) {
        let extra = allowEmpty ? ["embed", "head", "norm"] : []
        for target in list?.list ?? [] {
            guard let t = target.string else { continue }
            if t == "all" { continue }
            let name = t.split(separator: ".").filter { Int($0) == nil && $0 != "layers" }.joined(separator: ".")
            if arch.modules.contains(where: { Glob.matches(name.isEmpty ? "*" : name, $0) })
                || extra.contains(where: { Glob.matches(name, $0) }) || name.isEmpty
            {
                continue
            }
            var notes: [Note] = []
            if let hint = Suggestions.didYouMean(t, in: arch.modules) { notes.append(Note(hint)) }
            notes.append(Note("'\(arch.name)' modules: \(arch.modules.joined(separator: ", "))"))
            diagnostics.error(.unknownModule(t, arch.name), at: target.location, notes: notes)
        }
    }

    mutating func checkSequence(_ train: Value, _ info: ModelInfo) {
        if let seq = train["sequence"], let n = seq.int, let ctx = info.dims?.context, n > ctx {
            diagnostics.error(.sequenceTooLong(n, ctx), at: seq.location)
        }
    }
}
