/** The notice shown when TensorBoard's sampling dropped steps of a run. */

/** The notice shown when TensorBoard's sampling dropped steps. */
export function DownsampleNotice({ run, kept, written }: { run: string; kept: number; written: number }) {
  return (
    <p className="ce-notice" role="note" data-testid="downsampled-notice">
      <b>{run}</b>: TensorBoard kept {kept} of {written} logged steps; start tensorboard with{" "}
      <code>--samples_per_plugin channelexplorer=0</code> to keep all.
    </p>
  );
}
