/** The toolbar's "Share" button: saves the current view as one offline HTML file. */
import { useState } from "react";
import { saveBlob, safeFileName } from "./download";
import { shareCurrentView } from "./share";
import { readUrlState } from "../host/useHost";

export function ShareButton() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const share = async () => {
    setBusy(true);
    setError(null);
    try {
      const s = readUrlState();
      const what = [s.run, s.step === undefined ? "" : `step ${s.step}`].filter(Boolean).join(" · ");
      const { html } = await shareCurrentView(`ChannelExplorer${what ? ` · ${what}` : ""}`);
      const file = `channelexplorer_${safeFileName([s.run ?? "", s.step === undefined ? "" : `step${s.step}`].join("_"))}.html`;
      saveBlob(new Blob([html], { type: "text/html" }), file);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {error && (
        <span className="ce-export__error" role="alert" data-testid="share-error">
          {error}
        </span>
      )}
      <button
        type="button"
        className="ce-btn"
        disabled={busy}
        onClick={() => void share()}
        data-testid="share-btn"
        title="Save this view as one HTML file (code and data inlined) that opens offline, without a server"
      >
        {busy ? "Sharing…" : "Share"}
      </button>
    </>
  );
}
