import type { types } from '@slack/bolt';
import { isObject } from '../http/json.js';
import { toWellFormed } from '../http/well-formed.js';

/**
 * Slack's documented Block Kit limits, and the one place that fits a message or a view to them.
 *
 * Customer text is escaped before it reaches Slack, and escaping can make it five times longer
 * (`&` → `&amp;`), so a limit can only be checked on what is actually sent. Every view builder in
 * `slack/` returns its payload through `fitMessage` or `fitView`: text is cut on a grapheme
 * boundary, never inside an entity (`&amp;`), a surrogate pair or a `<…>` link or mention, and
 * lists are shortened to what Slack accepts. Names and handles are cut before escaping with
 * `shortName`, so a 10,000-character name leaves room for what the customer wrote.
 *
 * Lengths are counted in UTF-16 code units (JavaScript's `length`), which is never less than the
 * characters Slack counts.
 */
export const LIMITS = {
  /** `text` of a message (Slack answers `msg_too_long` above it). */
  messageText: 40_000,
  messageBlocks: 50,
  /** A modal or an App Home view. */
  viewBlocks: 100,
  sectionText: 3_000,
  sectionField: 2_000,
  sectionFields: 10,
  contextText: 3_000,
  contextElements: 10,
  header: 150,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2_000,
  url: 3_000,
  optionText: 75,
  optionValue: 150,
  options: 100,
  placeholder: 150,
  inputLabel: 2_000,
  inputHint: 2_000,
  inputValue: 3_000,
  blockId: 255,
  actionId: 255,
  altText: 2_000,
  imageTitle: 2_000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3_000,
  callbackId: 255,
} as const;

/** How many graphemes of a customer's name or handle are shown. */
export const NAME_GRAPHEMES = 80;
/** …and at most this many code units (one grapheme can hold dozens: emoji sequences, combining marks). */
const NAME_UNITS = 160;
/** A URL longer than this is not made into a link inside text; the label is shown instead. */
export const MAX_LINKED_URL = 1_000;

const ELLIPSIS = '…';
/** Splits text into graphemes (what a person sees as one character). */
export const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * A customer's name or handle as shown: one line, at most 80 graphemes. Cut BEFORE escaping.
 */
export function shortName(name: string): string {
  const oneLine = toWellFormed(name).replace(/\s+/g, ' ').trim();
  let out = '';
  let count = 0;
  for (const { segment } of segmenter.segment(oneLine.slice(0, NAME_UNITS + 1))) {
    if (count === NAME_GRAPHEMES || out.length + segment.length > NAME_UNITS) {
      // Too long: take graphemes back until the ellipsis fits too.
      const kept = Array.from(segmenter.segment(out), (g) => g.segment);
      while (kept.length > NAME_GRAPHEMES - 1 || kept.join('').length > NAME_UNITS - ELLIPSIS.length)
        kept.pop();
      return `${kept.join('')}${ELLIPSIS}`;
    }
    out += segment;
    count += 1;
  }
  return out.length < oneLine.length ? `${out}${ELLIPSIS}` : out;
}

/**
 * The pieces text may be cut between: Slack's `<…>` links, mentions and dates, the entities
 * escaping makes, and graphemes of everything else.
 */
function* atoms(text: string, within: number): Generator<string> {
  // One pass of the segmenter over the part that can fit (segmenting costs time in the length of
  // the whole string); tokens are matched on the whole text, so a cut never splits one.
  const token = /<[^<>]*>|&(?:amp|lt|gt);/y;
  let skipTo = 0;
  for (const { segment, index } of segmenter.segment(text.slice(0, within + 1))) {
    if (index < skipTo) continue;
    if (segment === '<' || segment === '&') {
      token.lastIndex = index;
      const match = token.exec(text);
      if (match) {
        skipTo = index + match[0].length;
        yield match[0];
        continue;
      }
    }
    yield segment;
  }
}

/**
 * Cuts (already escaped) mrkdwn or plain text to at most `max` code units, marking the cut with
 * an ellipsis. The cut falls between graphemes, entities and `<…>` tokens, so it never leaves half
 * an escape, half a surrogate pair or an unclosed link.
 */
export function fitText(text: string, max: number): string {
  const clean = toWellFormed(text);
  if (clean.length <= max) return clean;
  let out = '';
  for (const atom of atoms(clean, max)) {
    if (out.length + atom.length > max - ELLIPSIS.length) break;
    out += atom;
  }
  return `${out}${ELLIPSIS}`;
}

/** An http(s) URL Slack accepts as a button's or an image's `url`, or undefined. */
export function fitUrl(url: string | null | undefined, max: number = LIMITS.url): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
    return parsed.href.length <= max ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

type Json = Record<string, unknown>;

function fitTextObject(obj: unknown, max: number): unknown {
  if (!isObject(obj) || typeof obj.text !== 'string') return obj;
  const text = fitText(obj.text, max);
  // A text object must not be empty.
  return { ...obj, text: text === '' ? ' ' : text };
}

function fitString(value: unknown, max: number): unknown {
  return typeof value === 'string' ? fitText(value, max) : value;
}

function fitOption(option: unknown): unknown {
  if (!isObject(option)) return option;
  return {
    ...option,
    text: fitTextObject(option.text, LIMITS.optionText),
    ...(option.value !== undefined ? { value: fitString(option.value, LIMITS.optionValue) } : {}),
    ...(option.description !== undefined
      ? { description: fitTextObject(option.description, LIMITS.optionText) }
      : {}),
  };
}

function fitConfirm(confirm: unknown): unknown {
  if (!isObject(confirm)) return confirm;
  return {
    ...confirm,
    title: fitTextObject(confirm.title, LIMITS.confirmTitle),
    text: fitTextObject(confirm.text, LIMITS.confirmText),
    confirm: fitTextObject(confirm.confirm, LIMITS.confirmButton),
    deny: fitTextObject(confirm.deny, LIMITS.confirmButton),
  };
}

/** An interactive element (button, select, input…) within Slack's limits. */
function fitElement(element: unknown): unknown {
  if (!isObject(element)) return element;
  const out: Json = { ...element };
  if (typeof out.action_id === 'string') out.action_id = fitText(out.action_id, LIMITS.actionId);
  if (out.placeholder !== undefined) out.placeholder = fitTextObject(out.placeholder, LIMITS.placeholder);
  if (out.confirm !== undefined) out.confirm = fitConfirm(out.confirm);
  switch (out.type) {
    case 'button':
      out.text = fitTextObject(out.text, LIMITS.buttonText);
      if (out.value !== undefined) out.value = fitString(out.value, LIMITS.buttonValue);
      if (out.url !== undefined) {
        const url = typeof out.url === 'string' ? fitUrl(out.url) : undefined;
        if (url) out.url = url;
        else delete out.url;
      }
      break;
    case 'image':
      if (typeof out.alt_text === 'string') out.alt_text = fitText(out.alt_text, LIMITS.altText);
      break;
    case 'plain_text_input':
      if (typeof out.initial_value === 'string') {
        const max =
          typeof out.max_length === 'number'
            ? Math.min(out.max_length, LIMITS.inputValue)
            : LIMITS.inputValue;
        out.initial_value = fitText(out.initial_value, max);
      }
      break;
    default:
      break;
  }
  if (Array.isArray(out.options)) out.options = out.options.slice(0, LIMITS.options).map(fitOption);
  if (out.initial_option !== undefined) out.initial_option = fitOption(out.initial_option);
  if (Array.isArray(out.initial_options)) out.initial_options = out.initial_options.map(fitOption);
  if (Array.isArray(out.option_groups)) {
    out.option_groups = out.option_groups.map((g) =>
      isObject(g)
        ? {
            ...g,
            label: fitTextObject(g.label, LIMITS.optionText),
            options: Array.isArray(g.options) ? g.options.slice(0, LIMITS.options).map(fitOption) : g.options,
          }
        : g,
    );
  }
  return out;
}

function fitBlock(block: unknown): unknown {
  if (!isObject(block)) return block;
  const out: Json = { ...block };
  if (typeof out.block_id === 'string') out.block_id = fitText(out.block_id, LIMITS.blockId);
  switch (out.type) {
    case 'section':
      if (out.text !== undefined) out.text = fitTextObject(out.text, LIMITS.sectionText);
      if (Array.isArray(out.fields))
        out.fields = out.fields
          .slice(0, LIMITS.sectionFields)
          .map((f) => fitTextObject(f, LIMITS.sectionField));
      if (out.accessory !== undefined) out.accessory = fitElement(out.accessory);
      break;
    case 'header':
      out.text = fitTextObject(out.text, LIMITS.header);
      break;
    case 'context':
      if (Array.isArray(out.elements))
        out.elements = out.elements
          .slice(0, LIMITS.contextElements)
          .map((e) =>
            isObject(e) && e.type === 'image' ? fitElement(e) : fitTextObject(e, LIMITS.contextText),
          );
      break;
    case 'actions':
      if (Array.isArray(out.elements))
        out.elements = out.elements.slice(0, LIMITS.actionsElements).map(fitElement);
      break;
    case 'input':
      out.label = fitTextObject(out.label, LIMITS.inputLabel);
      if (out.hint !== undefined) out.hint = fitTextObject(out.hint, LIMITS.inputHint);
      out.element = fitElement(out.element);
      break;
    case 'image':
      if (typeof out.alt_text === 'string') out.alt_text = fitText(out.alt_text, LIMITS.altText);
      if (out.title !== undefined) out.title = fitTextObject(out.title, LIMITS.imageTitle);
      break;
    default:
      break;
  }
  return out;
}

function fitBlocks(blocks: unknown[], max: number): unknown[] {
  const fitted = blocks.map(fitBlock);
  if (fitted.length <= max) return fitted;
  // Say that something is missing rather than let Slack refuse the whole message.
  return [
    ...fitted.slice(0, max - 1),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `_${fitted.length - (max - 1)} more blocks are not shown (Slack shows at most ${max})._`,
        },
      ],
    },
  ];
}

/** What carebot posts: the notification text and the Block Kit blocks Slack shows. */
export interface SlackMessage {
  text: string;
  blocks: types.KnownBlock[];
}

/**
 * Message content built outside `slack/` or read back from the database (`slack_notices.blocks`,
 * stored as a builder here made it): fitted the same way, its blocks not typed.
 */
export interface StoredMessage {
  text: string;
  blocks?: unknown[] | undefined;
}

/**
 * A message (`chat.postMessage`, `chat.update`, an ephemeral or a `respond()`) within Slack's limits.
 * Fitting walks the JSON and only shortens what it finds, so the result has the type it was given.
 */
export function fitMessage(message: SlackMessage): SlackMessage;
export function fitMessage<T extends StoredMessage>(message: T): T;
export function fitMessage(message: StoredMessage): StoredMessage {
  return {
    ...message,
    text: fitText(message.text, LIMITS.messageText),
    ...(message.blocks ? { blocks: fitBlocks(message.blocks, LIMITS.messageBlocks) } : {}),
  };
}

/** A modal or App Home view within Slack's limits (the same walk as `fitMessage`). */
export function fitView<V extends types.ModalView | types.HomeView>(view: V): V;
export function fitView(view: { blocks: unknown[] }): Json {
  const out: Json = { ...view, blocks: fitBlocks(view.blocks, LIMITS.viewBlocks) };
  for (const key of ['title', 'submit', 'close'] as const)
    if (out[key] !== undefined)
      out[key] = fitTextObject(out[key], key === 'title' ? LIMITS.modalTitle : LIMITS.modalButton);
  return out;
}
