import Foundation
import TailorData
import TailorDiagnostics
import TailorEngine
import TailorPlan
import TailorRuntime

/// data.load, data.folder, data.command, data.filter, data.take and data.mix.
enum DataFileRunners {
    static func load(_ ctx: NodeContext) throws {
        let file = ctx.node.files.first ?? ""
        let records = try ctx.parameters(DataLoadParameters.self).records
        var data = try DataFiles.load(ctx.resolve(file), shownAs: file, format: records.format, fields: records.fields)
        if ctx.node.files.count > 1 {
            let qrels = ctx.node.files[1]
            data = try DataFiles.judged(data, by: try DataFiles.qrels(ctx.resolve(qrels), shownAs: qrels), questions: file, qrels: qrels)
        }
        try data.write(ctx.out("data.jsonl"))
    }

    /// Every file of a folder (sorted by name, hidden files skipped) as a document `{id, text}`.
    static func folder(_ ctx: NodeContext) throws {
        let format = try ctx.parameters(DataFolderParameters.self).format
        guard format == "documents" || format == "text" else { throw ExecutionError.folderFormat(format) }
        let folder = ctx.node.files.first ?? ""
        let path = ctx.resolve(folder)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { throw ExecutionError.folderUnreadable(folder) }
        var records: [[String: Any]] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            if FileProbe.kind(path + "/" + name) == .folder {
                throw ExecutionError.nestedFolder("\(folder)/\(name)")
            }
            let data = try ExecutionError.reading("\(folder)/\(name)") { try FileProbe.read(path + "/" + name) }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ExecutionError.notUTF8("\(folder)/\(name)")
            }
            records.append(["id": name, "text": text])
        }
        if records.isEmpty { throw ExecutionError.noDocuments(folder) }
        try Dataset(records: records).write(ctx.out("data.jsonl"))
    }

    /// The user's command, run without a shell (unless `shell: true`) in a working folder that
    /// holds copies of its declared inputs at the same relative paths; its output file is then
    /// read like a data file.
    static func command(_ ctx: NodeContext) throws {
        let p = try ctx.parameters(DataCommandParameters.self)
        let work = ctx.scratch + "/work"
        let fm = FileManager.default
        try? fm.removeItem(atPath: work)
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        func place(_ source: String, at relative: String) throws {
            guard !relative.hasPrefix("/"), !relative.split(separator: "/").contains("..") else {
                throw ExecutionError.commandInputOutside(relative)
            }
            try fm.createDirectory(atPath: (work + "/" + relative as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try fm.copyItem(atPath: source, toPath: work + "/" + relative)
        }
        for input in ctx.node.files { try place(ctx.resolve(input), at: input) }
        // Datasets it needs: another command's own output file where that command wrote it,
        // any other dataset as NAME.jsonl (a split port as NAME.PORT.jsonl).
        for (input, artifact) in ctx.inputs(.source) {
            if let declared = commandOutput(artifact) {
                try place(artifact.path(declared.stored), at: declared.path)
            } else {
                let name = input.node.hasPrefix("data.") ? String(input.node.dropFirst(5)) : input.node
                try place(artifact.path((input.port ?? "data") + ".jsonl"), at: name + (input.port.map { ".\($0)" } ?? "") + ".jsonl")
            }
        }
        let (args, output) = (p.run, p.output)
        guard !args.isEmpty else { throw ExecutionError.commandIncomplete }
        let process = Process()
        if p.shell {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", args.joined(separator: " ")]
        } else if args[0].contains("/") {
            process.executableURL = URL(fileURLWithPath: args[0].hasPrefix("/") ? args[0] : work + "/" + args[0])
            process.arguments = Array(args.dropFirst())
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = args
        }
        process.currentDirectoryURL = URL(fileURLWithPath: work)
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in p.environment {
            environment["TAILOR_PARAM_" + name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined()] = value
        }
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ExecutionError.commandStart(args[0], error.localizedDescription)
        }
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let tail = String(decoding: stderr, as: UTF8.self).split(separator: "\n").suffix(8).joined(separator: "\n")
            throw ExecutionError.commandFailed(args, status: process.terminationStatus, tail: tail)
        }
        guard fm.fileExists(atPath: work + "/" + output) else {
            throw ExecutionError.commandNoOutput(args, output)
        }
        let data = try DataFiles.load(work + "/" + output, shownAs: output + " (the command's output)",
                                      format: p.records.format, fields: p.records.fields)
        try data.write(ctx.out("data.jsonl"))
        // The file itself too, for commands that need this one.
        let stored = "output" + ((output as NSString).pathExtension.isEmpty ? "" : "." + (output as NSString).pathExtension)
        try fm.copyItem(atPath: work + "/" + output, toPath: ctx.out(stored))
        try JSONText.render(["output": output, "stored": stored]).write(toFile: ctx.out("command.json"), atomically: false, encoding: .utf8)
    }

    /// Where a command artifact's output file is stored and where its command wrote it.
    static func commandOutput(_ artifact: Artifact) -> (stored: String, path: String)? {
        guard artifact.files["command.json"] != nil, let data = FileManager.default.contents(atPath: artifact.path("command.json")),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: String],
              let stored = json["stored"], let path = json["output"] else { return nil }
        return (stored, path)
    }

    static func filter(_ ctx: NodeContext) throws {
        let data = try ctx.dataset(try ctx.input(.source))
        let f = try ctx.parameters(DataFilterParameters.self)
        let (minChars, maxChars, contains, dedupe) = (f.minChars, f.maxChars, f.contains, f.dedupe)
        var seen = Set<String>()
        let kept = data.records.filter { record in
            let text = RecordText.parts(record).map { $0.context + $0.answer } ?? ""
            if let minChars, text.count < minChars { return false }
            if let maxChars, text.count > maxChars { return false }
            if let contains, !text.contains(contains) { return false }
            if dedupe {
                let line = (try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? text
                if !seen.insert(line).inserted { return false }
            }
            return true
        }
        if kept.isEmpty { throw ExecutionError.filterKeepsNone(data.count) }
        try Dataset(records: kept).write(ctx.out("data.jsonl"))
    }

    static func take(_ ctx: NodeContext) throws {
        let data = try ctx.dataset(try ctx.input(.source))
        try Dataset(records: Array(data.records.prefix(try ctx.parameters(DataTakeParameters.self).take))).write(ctx.out("data.jsonl"))
    }

    /// `count` records: each source's share by weight (largest remainders), drawn in a seeded
    /// order from that source (repeating it when the share is larger), then shuffled together.
    static func mix(_ ctx: NodeContext) throws {
        let sources = try ctx.inputs(.source).map { try ctx.dataset($0) }
        let p = try ctx.parameters(DataMixParameters.self)
        let weights = p.weights
        let count = p.count ?? sources.reduce(0) { $0 + $1.count }
        let total = weights.reduce(0, +)
        let exact = weights.map { $0 / total * Double(count) }
        var shares = exact.map { Int($0) }
        for i in exact.indices.sorted(by: { exact[$0] - Double(shares[$0]) > exact[$1] - Double(shares[$1]) }).prefix(count - shares.reduce(0, +)) {
            shares[i] += 1
        }
        var records: [[String: Any]] = []
        for (j, source) in sources.enumerated() where shares[j] > 0 {
            let order = Philox.permutation(source.count, seed: ctx.seed, stream: 0x6d69_7800 + UInt64(j))
            records += (0..<shares[j]).map { source.records[order[$0 % source.count]] }
        }
        let shuffle = Philox.permutation(records.count, seed: ctx.seed, stream: 0x6d69_78ff)
        try Dataset(records: shuffle.map { records[$0] }).write(ctx.out("data.jsonl"))
    }
}

extension DataFileRunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [
        .dataLoad: load, .dataFolder: folder, .dataCommand: command, .dataFilter: filter, .dataTake: take, .dataMix: mix,
    ]
}
