// The terminal's real size, followed as it is resized: the live view lays itself out from it.
import { useEffect, useState } from "react";

interface TerminalSize {
  columns: number;
  rows: number;
}

function terminalSize(stream: NodeJS.WriteStream = process.stdout): TerminalSize {
  return { columns: stream.columns || 80, rows: stream.rows || 24 };
}

export function useTerminalSize(stream: NodeJS.WriteStream = process.stdout): TerminalSize {
  const [size, setSize] = useState(() => terminalSize(stream));
  useEffect(() => {
    const onResize = () => setSize(terminalSize(stream));
    stream.on("resize", onResize);
    return () => void stream.off("resize", onResize);
  }, [stream]);
  return size;
}
