import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// `tailor label`'s web page: a person sees a prompt and two answers and picks the better one or
/// a tie, with buttons or keys; each choice is appended to the labels file (`LabelStore`) before
/// the next pair shows. Routes: `GET /` (the page), `GET /api/next` (the next pair not yet
/// labelled, or `done`), `POST /api/label` (`{"id", "choice": "left" | "right" | "tie"}`).
public enum LabelServer {
    public static func application(_ source: any PairSource, store: LabelStore, host: String, port: Int,
                                   running: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(source, store: store),
                    configuration: .init(address: .hostname(host, port: port), serverName: "tailor-label"),
                    onServerRunning: { channel in await running(channel.localAddress?.port ?? port) },
                    logger: OpenAIServer.logger)
    }

    static func router(_ source: any PairSource, store: LabelStore) -> Router<BasicRequestContext> {
        let router = Router()
        let ids = source.ids
        /// Pairs shown and not yet labelled, by id (the label names the pair; its text comes from here).
        let shown = Mutex([String: LabelPair]())
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: LabelPage.html)))
        }
        router.get("/api/next") { _, _ in
            guard let index = ids.firstIndex(where: { !store.isLabelled($0) }) else {
                return json(["done": true, "labelled": store.count, "total": ids.count, "file": store.path])
            }
            let pair: LabelPair
            if let cached = shown.withLock({ $0[ids[index]] }) {
                pair = cached
            } else {
                do { pair = try await source.pair(index) } catch { return json(["error": "\(error)"], status: .internalServerError) }
                shown.withLock { $0[pair.id] = pair }
            }
            return json(["done": false, "id": pair.id, "position": store.count + 1, "total": ids.count, "prompt": pair.prompt, "left": pair.left,
                         "right": pair.right])
        }
        router.post("/api/label") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 16)
            guard let asked = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any], let id = asked["id"] as? String,
                  let choice = asked["choice"] as? String, ["left", "right", "tie"].contains(choice)
            else { return json(["error": "send {\"id\": PAIR, \"choice\": \"left\" | \"right\" | \"tie\"}"], status: .badRequest) }
            guard let pair = shown.withLock({ $0[id] }) else { return json(["error": "pair '\(id)' has not been shown"], status: .notFound) }
            var record = ["id": id, "prompt": pair.prompt]
            switch choice {
            case "tie":
                (record["response_a"], record["response_b"]) = (pair.left, pair.right)
            default:
                let leftWins = choice == "left"
                (record["chosen"], record["rejected"]) = leftWins ? (pair.left, pair.right) : (pair.right, pair.left)
                if let l = pair.leftSource, let r = pair.rightSource { (record["chosen_by"], record["rejected_by"]) = leftWins ? (l, r) : (r, l) }
            }
            do {
                try store.append(record, tie: choice == "tie")
            } catch {
                return json(["error": "\(error)"], status: .conflict)
            }
            _ = shown.withLock { $0.removeValue(forKey: id) }
            return json(["labelled": store.count, "total": ids.count])
        }
        return router
    }

    static func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
