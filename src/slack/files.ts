import type { webApi } from '@slack/bolt';

type WebClient = webApi.WebClient;

export interface FileUpload {
  channelId: string;
  filename: string;
  title: string;
  bytes: Buffer;
  initialComment?: string | undefined;
  /** Describes an image for screen readers. */
  altText?: string | undefined;
}

/**
 * Shares a file in a channel through Slack's current upload flow, which the Web API client runs:
 * `files.getUploadURLExternal` (filename, length) → POST the bytes to the returned `upload_url`
 * → `files.completeUploadExternal` (files [{id, title}], channel_id, initial_comment).
 * Returns the id Slack gave the file.
 */
export async function shareFile(client: WebClient, upload: FileUpload): Promise<string | undefined> {
  const res = await client.files.uploadV2({
    channel_id: upload.channelId,
    file: upload.bytes,
    filename: upload.filename,
    title: upload.title,
    ...(upload.initialComment ? { initial_comment: upload.initialComment } : {}),
    ...(upload.altText ? { alt_text: upload.altText } : {}),
  });
  const completed = (res as { files?: Array<{ files?: Array<{ id?: string }> }> }).files;
  return completed?.[0]?.files?.[0]?.id;
}
