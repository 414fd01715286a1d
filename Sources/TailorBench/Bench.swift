import COpenBLAS
import Foundation
import TailorRuntime

/// Training-throughput benchmark against ../shared/bench/training: one step =
/// forward + cross-entropy + backward + AdamW, batch 8 × full context.
/// Usage: TailorBench [s|m|m-lora|sgemm|bpe|smollm2-lora|smollm2-full|dpo-s|dpo-m|reward-s|reward-m|dpo-smollm2-lora|index|embed]…
/// (release build: `make bench-runtime`).
@main
enum Bench {
    static func main() {
        let threads = ProcessInfo.processInfo.environment["TAILOR_THREADS"].flatMap(Int.init) ?? 1
        Runtime.setThreads(threads)
        let cases = CommandLine.arguments.dropFirst().isEmpty ? ["sgemm", "s", "m", "m-lora"] : Array(CommandLine.arguments.dropFirst())
        print("threads \(threads), OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)")")
        for c in cases {
            switch c {
            case "sgemm": sgemm(threads: threads)
            case "s": train(.s, name: "S", lora: false)
            case "m": train(.m, name: "M", lora: false)
            case "m-lora": train(.m, name: "M LoRA r8 q,v", lora: true)
            case "bpe": BPEBench.run()
            case "smollm2-lora": FinetuneBench.run(lora: true)
            case "smollm2-full": FinetuneBench.run(lora: false)
            case "dpo-s": PreferenceBench.run("dpo", .s, name: "DPO S")
            case "dpo-m": PreferenceBench.run("dpo", .m, name: "DPO M")
            case "reward-s": PreferenceBench.run("reward", .s, name: "reward model S")
            case "reward-m": PreferenceBench.run("reward", .m, name: "reward model M")
            case "dpo-smollm2-lora": PreferenceBench.smolLM2()
            case "index": IndexBench.run()
            case "embed": EmbedBench.run()
            case "continual-naive", "continual-l2", "continual-ewc", "continual-lwf", "continual-adapters": ContinualBench.run(String(c.dropFirst("continual-".count)))
            default: print("unknown case \(c)")
            }
        }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Peak resident memory of this process (VmHWM), in MB.
    static func peakRSS() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
    }

    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    static func sgemm(threads: Int) {
        let n = 1024
        let a = Tensor.randomUniform([n, n], rng: Philox(seed: 1)), b = Tensor.randomUniform([n, n], rng: Philox(seed: 2))
        let c = Tensor(zeros: [n, n])
        var times: [Double] = []
        // Tensor.matmul first: OpenBLAS's idle threads spin for a while after a threaded call.
        // 5 warm-up products (thread pools start lazily), then the median of 20.
        for i in 0..<25 {
            let t0 = now()
            _ = Tensor.noGrad { a.matmul(b) }
            if i >= 5 { times.append(now() - t0) }
        }
        let runtime = 2 * Double(n * n * n) / median(times) / 1e9
        openblas_set_num_threads(Int32(threads))  // OpenBLAS's own threading, for the direct call only
        defer { openblas_set_num_threads(1) }
        times = []
        for i in 0..<25 {
            let t0 = now()
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a.pointer, Int32(n), b.pointer, Int32(n), 0, c.pointer, Int32(n))
            if i >= 5 { times.append(now() - t0) }
        }
        let direct = 2 * Double(n * n * n) / median(times) / 1e9
        print(String(format: "sgemm 1024³: cblas_sgemm (OpenBLAS threads) %.1f GFLOP/s, Tensor.matmul %.1f GFLOP/s (%.1f%%)", direct, runtime, 100 * runtime / direct))
    }

    static func train(_ config: GPTConfig, name: String, lora: Bool) {
        let model = GPT(config, seed: 1)
        if lora { model.addLoRA(rank: 8, alpha: 16, seed: 2) }
        let params = model.parameters.filter(\.requiresGrad)
        var opt = AdamW(params, beta1: 0.9, beta2: 0.95, weightDecay: 0.1)
        let batch = 8, t = config.context
        let rng = Philox(seed: 3)
        var times: [Double] = []
        var loss: Float = 0
        for step in 0..<25 {
            let tokens = rng.uniform(count: batch * t + 1, start: UInt64(step * (batch * t + 1))).map { Int32($0 * Float(config.vocab)) }
            let t0 = now()
            opt.zeroGrad()
            let l = model.loss(Array(tokens[0..<(batch * t)]), targets: Array(tokens[1...]), batch: batch)
            try! l.backward()
            opt.step(lr: 3e-4)
            if step >= 5 { times.append(now() - t0) }
            loss = l.item
        }
        let step = median(times)
        let tokensPerSecond = Double(batch * t) / step
        let trainable = params.reduce(0) { $0 + $1.count }
        print(String(format: "%@: %.0f tokens/s, step %.1f ms (min %.1f), peak RSS %.0f MB, trainable %d, loss %.3f",
                     name, tokensPerSecond, step * 1000, (times.min() ?? 0) * 1000, peakRSS(), trainable, loss))
    }
}
