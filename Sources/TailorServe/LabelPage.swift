/// The labelling page: one self-contained HTML document (no scripts or styles from elsewhere, so
/// it works on a machine without network).
enum LabelPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>Tailor · preference labels</title>
        <style>
          body { font: 15px/1.45 system-ui, sans-serif; margin: 0; background: #f6f6f4; color: #222; }
          header { padding: 12px 24px; background: #2d3b45; color: #fff; display: flex; justify-content: space-between; }
          main { max-width: 1200px; margin: 0 auto; padding: 16px 24px; }
          .prompt { background: #fff; border: 1px solid #ccc; border-radius: 6px; padding: 12px 16px; white-space: pre-wrap; }
          .answers { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; margin: 16px 0; }
          .answer { background: #fff; border: 2px solid #ccc; border-radius: 6px; padding: 12px 16px; white-space: pre-wrap; min-height: 120px; }
          .answer h2 { font-size: 13px; margin: 0 0 8px; color: #666; text-transform: uppercase; letter-spacing: .05em; }
          .buttons { display: flex; gap: 12px; justify-content: center; }
          button { font-size: 15px; padding: 10px 18px; border-radius: 6px; border: 1px solid #2d3b45; background: #fff; cursor: pointer; }
          button:hover { background: #e8eef2; }
          kbd { border: 1px solid #999; border-radius: 3px; padding: 0 4px; font-size: 12px; background: #f0f0f0; }
          #status { text-align: center; color: #666; margin-top: 12px; min-height: 1.5em; }
          #done { display: none; text-align: center; font-size: 18px; margin-top: 48px; }
        </style>
        </head>
        <body>
        <header><strong>Which answer is better?</strong><span id="progress"></span></header>
        <main>
          <div id="pair">
            <div class="prompt" id="prompt"></div>
            <div class="answers">
              <div class="answer" id="left-answer"><h2>Answer A</h2><div id="left"></div></div>
              <div class="answer" id="right-answer"><h2>Answer B</h2><div id="right"></div></div>
            </div>
            <div class="buttons">
              <button id="choose-left"><kbd>1</kbd> A is better</button>
              <button id="choose-tie"><kbd>T</kbd> Tie</button>
              <button id="choose-right">B is better <kbd>2</kbd></button>
            </div>
            <div id="status"></div>
          </div>
          <div id="done"></div>
        </main>
        <script>
        let current = null, busy = false;
        const $ = id => document.getElementById(id);
        async function next() {
          $("status").textContent = "Loading the next pair…";
          const r = await fetch("/api/next");
          const p = await r.json();
          if (p.error) { $("status").textContent = "Error: " + p.error; return; }
          if (p.done) {
            current = null;
            $("pair").style.display = "none";
            $("done").style.display = "block";
            $("done").textContent = "All " + p.total + " pairs are labelled. The labels are in " + p.file + ".";
            $("progress").textContent = p.total + " of " + p.total;
            return;
          }
          current = p;
          $("prompt").textContent = p.prompt;
          $("left").textContent = p.left;
          $("right").textContent = p.right;
          $("progress").textContent = "Pair " + p.position + " of " + p.total;
          $("status").textContent = "";
        }
        async function label(choice) {
          if (!current || busy) return;
          busy = true;
          $("status").textContent = "Saving…";
          const r = await fetch("/api/label", { method: "POST", headers: { "Content-Type": "application/json" },
                                                body: JSON.stringify({ id: current.id, choice: choice }) });
          const answer = await r.json();
          busy = false;
          if (answer.error) { $("status").textContent = "Not saved: " + answer.error; return; }
          await next();
        }
        $("choose-left").onclick = () => label("left");
        $("choose-right").onclick = () => label("right");
        $("choose-tie").onclick = () => label("tie");
        document.addEventListener("keydown", e => {
          const k = e.key.toLowerCase();
          if (k === "1" || k === "a" || k === "arrowleft") label("left");
          else if (k === "2" || k === "b" || k === "arrowright") label("right");
          else if (k === "t" || k === "0" || k === "arrowdown") label("tie");
        });
        next();
        </script>
        </body>
        </html>
        """
}
