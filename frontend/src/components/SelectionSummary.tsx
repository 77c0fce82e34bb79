/** What is selected across the tab's views, with a way to clear it. */
import * as api from "../api";
import { useSide } from "../graph/context";
import { useSelection } from "../state";

/** Selected inputs as thumbnails, with a clear button. */
export function SelectionSummary() {
  const side = useSide();
  const [selection, actions] = useSelection();
  const indices = Array.from(selection.inputs).sort((a, b) => a - b);
  const shown = indices.slice(0, 48);
  return (
    <section className="ce-side-section" aria-label="Selection" data-testid="selection" data-count={indices.length}>
      <header className="ce-side-title">
        <span>Selection</span>
        <button
          type="button"
          className="ce-btn ce-btn--small"
          disabled={!indices.length && !selection.classes.size}
          onClick={() => actions.clear()}
          title="Clear the selection in every view"
        >
          Clear
        </button>
      </header>
      {indices.length ? (
        <>
          <p className="ce-muted">
            {indices.length} input{indices.length === 1 ? "" : "s"}
            {selection.source ? ` · from ${selection.source}` : ""}
          </p>
          <div className="ce-thumbs">
            {shown.map((i) => (
              <img
                key={i}
                src={api.thumbnailUrl(side, i)}
                alt={`input ${i}`}
                title={`#${i}`}
                width={36}
                height={36}
                loading="lazy"
              />
            ))}
            {indices.length > shown.length && <span className="ce-muted">+{indices.length - shown.length}</span>}
          </div>
        </>
      ) : (
        <p className="ce-hint">
          Select inputs in any view (brush the scatterplot, click a Jaccard cell or a class) to highlight them
          everywhere.
        </p>
      )}
    </section>
  );
}
