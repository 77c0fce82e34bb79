/** A short list of channels as links that open their cards (e.g. the channels two inputs share). */

export interface ChannelLinksProps {
  channels: readonly number[];
  onChannel: (channel: number) => void;
  /** Links shown before "+n" (default 12). */
  max?: number;
}

export function ChannelLinks({ channels, onChannel, max = 12 }: ChannelLinksProps) {
  return (
    <span className="cep-chanlinks" data-testid="channel-links">
      {channels.slice(0, max).map((ch) => (
        <button
          key={ch}
          type="button"
          className="cep-link"
          data-channel={ch}
          aria-label={`Open channel ${ch}`}
          onClick={() => onChannel(ch)}
        >
          #{ch}
        </button>
      ))}
      {channels.length > max && <span className="cep-muted">+{channels.length - max}</span>}
    </span>
  );
}
