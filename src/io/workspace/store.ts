// Where the workspace's files live: a local folder or an S3 bucket. The pipeline reads and writes through
// this interface only, so it never knows which one it works on. A file is named by its location, the
// workspace root followed by `/` and the file's place in the layout (`/home/me/data/.raw/x.csv.gz` or
// `s3://bucket/prefix/.raw/x.csv.gz`): the same string names it in every message.
import type { FileContent } from "../atomic-file.ts";
import { CimlError } from "../ciml-error.ts";

/**
 * The store itself failed (a bucket that refuses us, a lost endpoint), as opposed to one file in it being
 * bad: a command stops on this rather than skipping the file.
 */
export class StoreError extends CimlError {
  override name = "StoreError";
}

/** Bytes appended one record at a time (TensorBoard event files), readable by others as they grow. */
export interface Appender {
  append(bytes: Uint8Array): void;
  close(): Promise<void>;
}

export interface Store {
  /**
   * How many files a reader should have in flight at once: 1 where a read is a local disk's, more where
   * each read is a round trip (S3), so a loop over many small files is not paced by latency.
   */
  readonly readsInFlight: number;
  /** the workspace root as the user can read it (a folder, or s3://bucket[/prefix]); never holds a secret */
  readonly root: string;
  /** a file's bytes, or undefined when there is none */
  read(location: string): Promise<Uint8Array | undefined>;
  /** replaces the file whole: a reader sees the old bytes or the new ones, never a part */
  write(location: string, content: FileContent): Promise<void>;
  exists(location: string): Promise<boolean>;
  /** when the file was last written (ms since the epoch, by the store's clock), or undefined when there is none */
  modified(location: string): Promise<number | undefined>;
  /** the files under a folder, as paths relative to it (`a.json.gz`, `eval_dev/events…`); none when it is absent */
  list(folder: string): Promise<string[]>;
  /** removes a file; a file that is not there is not an error */
  remove(location: string): Promise<void>;
  /**
   * Moves a file to another name in the same store, replacing what is there. A local rename is one
   * atomic step; S3 has no rename, so there it is a copy then a removal (readers see the old object or the
   * new one at `to`, never a part).
   */
  move(from: string, to: string): Promise<void>;
  /** removes a folder and everything under it; a folder that is not there is not an error */
  removeFolder(folder: string): Promise<void>;
  /** removes what writers that died mid-write left in a folder (a local temp file; S3 leaves nothing) */
  sweep(folder: string): Promise<void>;
  /** a new file that grows by appends; the name must be new */
  appender(location: string): Appender;
}

/** `folder/a/b`: locations are joined with `/` whatever the store, as S3 keys are. */
export function within(folder: string, ...names: string[]): string {
  return [folder, ...names].join("/");
}
