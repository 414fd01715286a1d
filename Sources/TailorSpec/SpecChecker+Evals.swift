import TailorDiagnostics

extension SpecChecker {
    mutating func checkRAG() {
        for (_, v) in entries("rag") {
            expectFormat(v["documents"], [.documents], for: "'documents' of a RAG pipeline")
            if let e = v["embed"], let name = e.string, let m = modelInfo(name) {
                expectKind(e, m, [.encoder], "'embed'")
            }
            if let g = v["generator"], let name = g.string, let m = modelInfo(name) {
                expectKind(g, m, [.languageModel], "'generator'")
            }
            if let p = v["prompt"]?.string, let t = entry(.prompt, p)?["template"] {
                let found = Set(Self.placeholders(t.string ?? ""))
                if !found.contains("context") || !found.contains("question") {
                    diagnostics.error(.ragPromptPlaceholders, at: t.location,
                                      notes: [Note("used by this RAG pipeline", at: v["prompt"]?.location)])
                }
                checkPlaceholders(prompt: v["prompt"]!, format: .queries, extra: ["context"])
            }
            if let chunk = v["chunk"], let size = chunk["size"]?.int, let overlap = chunk["overlap"]?.int, overlap >= size {
                diagnostics.error(.overlap(overlap, size), at: chunk["overlap"]?.location ?? chunk.location)
            }
        }
    }

    /// The forgetting matrix scores each continual model's stages on each task's held-out set
    /// (`tasks`, in training order) and on `data`, so it needs those sets, one per task, and
    /// continual models; its cells are exact-match evals, so it stands alone in `metrics`.
    mutating func checkForgetting(_ v: Value, _ metricValue: Value, _ modelRefs: [Value]) {
        let name = metricValue.string ?? "forgetting"
        guard let tasks = v["tasks"]?.list else {
            diagnostics.error(.metricNeeds(name, "tasks"), at: metricValue.location,
                              notes: [Note("list each task's held-out set in 'tasks', in training order, e.g. `tasks: [sums.test, reverse.test]`")])
            return
        }
        for other in v["metrics"]?.list ?? [] where other.string != name {
            diagnostics.error(.metricAlone(name), at: other.location,
                              notes: [Note("its cells are exact-match scores; put other metrics in an eval of their own")])
        }
        for ref in modelRefs {
            guard let m = ref.string.flatMap({ modelInfo($0) }) else { continue }
            guard m.method == "continual" else {
                diagnostics.error(.wrongModel("metric '\(name)'", needs: "a continual model", got: "not continual (it has no 'continual:' section)"), at: ref.location,
                                  notes: [Note("'\(m.name)' is defined here", at: m.value.location)])
                continue
            }
            let trained = m.value["continual"]?["tasks"]?.list?.count ?? 0
            if trained != tasks.count {
                diagnostics.error(.taskCount(tasks.count, m.name, trained), at: v["tasks"]?.location,
                                  notes: [Note("one held-out set per task of '\(m.name)', in its training order", at: m.value["continual"]?["tasks"]?.location)])
            }
        }
    }

    mutating func checkEvals() {
        for (_, v) in entries("evals") {
            let format = dataRef(v["data"]).flatMap { formatMemo[$0.name] ?? nil }
            let modelRefs = v["models"]?.list ?? []
            for metricValue in v["metrics"]?.list ?? [] {
                guard let name = metricValue.string, let metric = Metric.named(name) else { continue }
                expectFormat(v["data"], metric.formats, for: "metric '\(name)'")
                switch metric.subject {
                case .rag:
                    if v["rag"] == nil {
                        diagnostics.error(.metricSubject(name, metric.subject.rawValue), at: metricValue.location,
                                          notes: [Note("score a pipeline with 'rag:' instead of 'models:'")])
                    }
                    // Answers need a model that writes them, and a prompt that gives it the passages.
                    if Metric.generating.contains(name), let ragName = v["rag"]?.string, let pipeline = entry(.rag, ragName) {
                        for key in ["generator", "prompt"] where pipeline[key] == nil {
                            diagnostics.error(Message("metric '\(name)' needs the pipeline's '\(key)'"), at: metricValue.location,
                                              notes: [Note(key == "generator" ? "add 'generator: MODEL', a language model that answers from the retrieved passages"
                                                                             : "add 'prompt: NAME', a prompt whose template uses '{context}' and '{question}'",
                                                           at: pipeline.location)])
                        }
                    }
                case .languageModel, .classifier, .reward:
                    let wanted: ModelKind = metric.subject == .classifier ? .classifier : metric.subject == .reward ? .reward : .languageModel
                    if v["rag"] != nil, metric.name != "loss", metric.name != "perplexity" {
                        diagnostics.error(.metricSubject(name, metric.subject.rawValue), at: metricValue.location)
                    }
                    for ref in modelRefs {
                        if let m = ref.string.flatMap({ modelInfo($0) }) { expectKind(ref, m, [wanted], "metric '\(name)'") }
                    }
                case .continual:
                    checkForgetting(v, metricValue, modelRefs)
                }
                if name == "win_rate" {
                    for key in ["reward", "baseline"] where v[key] == nil {
                        diagnostics.error(.metricNeeds(name, key), at: metricValue.location,
                                          notes: [Note(key == "reward" ? "name the reward model that judges each pair of answers, e.g. 'reward: judge'"
                                                                       : "name the model whose answers each model's are compared with, e.g. 'baseline: sft'")])
                    }
                }
            }
            let names = Set((v["metrics"]?.list ?? []).compactMap(\.string))
            for (key, readers) in Metric.settingsByMetric where names.isDisjoint(with: readers) {
                guard let setting = v[key], !setting.isDefault else { continue }
                diagnostics.error(.needs(key, readers.sorted().map { "metrics: [\($0)]" }), at: setting.location,
                                  notes: [Note("none of this eval's metrics reads '\(key)'; remove it, or add a metric that does")])
            }
            let judged = names.contains("win_rate")
            for key in ["reward", "baseline"] where v[key] != nil && !judged {
                diagnostics.error(.needs(key, ["metrics: [win_rate]"]), at: v[key]?.location)
            }
            if let r = v["reward"], let m = r.string.flatMap({ modelInfo($0) }) { expectKind(r, m, [.reward], "'reward'") }
            if let b = v["baseline"], let m = b.string.flatMap({ modelInfo($0) }) { expectKind(b, m, [.languageModel], "'baseline'") }
            for task in v["tasks"]?.list ?? [] { expectFormat(task, DataFormat.languageModeling, for: "a continual task") }
            if let tasks = v["tasks"], !names.contains("forgetting") {
                diagnostics.error(.needs("tasks", ["metrics: [forgetting]"]), at: tasks.location)
            }
            if v["data"] == nil, !names.contains("forgetting") {
                diagnostics.error(.missingKey("data", in: "an eval"), at: v.location)
            }
            if let p = v["prompt"], let format { checkPlaceholders(prompt: p, format: format) }
            // Greedy answers differ between repeats only by the examples drawn at random.
            if let repeats = v["repeats"], let p = v["prompt"], let name = p.string, let prompt = entry(.prompt, name),
               prompt["few_shot"]?["select"]?.string != "random" {
                diagnostics.error(Message("'repeats' needs a prompt whose few-shot examples are drawn at random"), at: repeats.location,
                                  notes: [Note("prompt '\(name)' chooses the same examples every time, so every repeat would score the same; remove 'repeats', or use `few_shot: { select: random }`", at: p.location)])
            }
        }
    }

    mutating func checkExports() {
        for (_, v) in entries("exports") {
            guard let ref = v["model"], let m = ref.string.flatMap({ modelInfo($0) }) else { continue }
            if v["merge"]?.bool == true, !m.hasAdapter {
                diagnostics.error(.mergeNeedsLoRA, at: v["merge"]?.location,
                                  notes: [Note("'\(m.name)' is made by '\(m.method)'", at: ref.location)])
            }
            if v["format"]?.string == "peft", !m.hasAdapter {
                diagnostics.error(.peftNeedsLoRA, at: v["format"]?.location,
                                  notes: [Note("'\(m.name)' is made by '\(m.method)'", at: ref.location)])
            }
            // PEFT's layout is the adapter alone, as trained: nothing to merge, and float32.
            if v["format"]?.string == "peft" {
                if let merge = v["merge"], merge.bool == true {
                    diagnostics.error(.needs("merge", ["format: hf"]), at: merge.location,
                                      notes: [Note("a PEFT export is the adapter without the base; export `format: hf` to merge it in")])
                }
                if let dtype = v["dtype"], !dtype.isDefault, dtype.string != "f32" {
                    diagnostics.error(.needs("dtype", ["format: hf"]), at: dtype.location,
                                      notes: [Note("a PEFT export keeps the adapter in f32; remove 'dtype'")])
                }
            }
        }
        for ref in value["serve"]?["models"]?.list ?? [] {
            if let m = ref.string.flatMap({ modelInfo($0) }) { expectKind(ref, m, [.languageModel], "serving") }
        }
        let servedModels = Set((value["serve"]?["models"]?.list ?? []).compactMap(\.string))
        for ref in value["serve"]?["rag"]?.list ?? [] {
            guard let name = ref.string, let pipeline = value["rag"]?[name] else { continue }
            for key in ["generator", "prompt"] where pipeline[key] == nil {
                diagnostics.error(.servedRAGNeeds(name, key), at: ref.location,
                                  notes: [Note("'\(name)' is defined here; give it '\(key)'", at: pipeline.location)])
            }
            if servedModels.contains(name) {
                diagnostics.error(.servedTwice(name), at: ref.location, notes: [Note("serve one of them, or rename the pipeline")])
            }
        }
    }
}
