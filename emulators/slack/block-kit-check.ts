/**
 * The emulated Slack's own reading of Block Kit's documented limits (docs.slack.dev, "Block Kit"
 * reference: blocks, block elements, composition objects, surfaces). Written apart from
 * `src/slack/limits.ts` on purpose: the fake refuses what Slack refuses, whatever carebot believes.
 *
 * Each problem reads as Slack words it in `response_metadata.messages`:
 * `[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]`.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Slack counts characters; counting UTF-16 code units here is never more lenient. */
const len = (s: string) => s.length;

class Checker {
  readonly problems: string[] = [];

  private fail(message: string, pointer: string): void {
    this.problems.push(`[ERROR] ${message} [json-pointer:${pointer}]`);
  }

  maxLength(value: unknown, max: number, pointer: string, required = false): void {
    if (value === undefined || value === null) {
      if (required) this.fail('must be provided', pointer);
      return;
    }
    if (typeof value !== 'string') {
      this.fail('must be a string', pointer);
      return;
    }
    if (len(value) > max) this.fail(`must be less than ${max + 1} characters`, pointer);
    if (required && value.length === 0) this.fail('must be more than 0 characters', pointer);
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value))
      this.fail('must be valid unicode', pointer);
  }

  textObject(value: unknown, max: number, pointer: string, plainOnly = false): void {
    if (!isObj(value)) {
      this.fail('must be a text object', pointer);
      return;
    }
    if (value.type !== 'plain_text' && value.type !== 'mrkdwn') {
      this.fail('must be plain_text or mrkdwn', `${pointer}/type`);
      return;
    }
    if (plainOnly && value.type !== 'plain_text') this.fail('must be plain_text', `${pointer}/type`);
    this.maxLength(value.text, max, `${pointer}/text`, true);
  }

  maxItems(value: unknown, max: number, pointer: string): value is unknown[] {
    if (!Array.isArray(value)) {
      this.fail('must be an array', pointer);
      return false;
    }
    if (value.length > max) this.fail(`must be no more than ${max} items`, pointer);
    return true;
  }

  url(value: unknown, pointer: string): void {
    if (value === undefined) return;
    this.maxLength(value, 3000, pointer);
    if (typeof value === 'string' && !/^https?:\/\//i.test(value)) this.fail('must be a valid URL', pointer);
  }

  option(value: unknown, pointer: string): void {
    if (!isObj(value)) {
      this.fail('must be an option object', pointer);
      return;
    }
    this.textObject(value.text, 75, `${pointer}/text`);
    this.maxLength(value.value, 150, `${pointer}/value`, true);
    if (value.description !== undefined)
      this.textObject(value.description, 75, `${pointer}/description`, true);
  }

  confirm(value: unknown, pointer: string): void {
    if (value === undefined) return;
    if (!isObj(value)) {
      this.fail('must be a confirm object', pointer);
      return;
    }
    this.textObject(value.title, 100, `${pointer}/title`, true);
    this.textObject(value.text, 300, `${pointer}/text`);
    this.textObject(value.confirm, 30, `${pointer}/confirm`, true);
    this.textObject(value.deny, 30, `${pointer}/deny`, true);
  }

  element(value: unknown, pointer: string): void {
    if (!isObj(value)) {
      this.fail('must be an element object', pointer);
      return;
    }
    this.maxLength(value.action_id, 255, `${pointer}/action_id`);
    if (value.placeholder !== undefined)
      this.textObject(value.placeholder, 150, `${pointer}/placeholder`, true);
    this.confirm(value.confirm, `${pointer}/confirm`);
    const options = (key: string, max: number) => {
      if (value[key] === undefined) return;
      if (this.maxItems(value[key], max, `${pointer}/${key}`))
        (value[key] as unknown[]).forEach((o, i) => {
          this.option(o, `${pointer}/${key}/${i}`);
        });
    };
    switch (value.type) {
      case 'button':
        this.textObject(value.text, 75, `${pointer}/text`, true);
        this.maxLength(value.value, 2000, `${pointer}/value`);
        this.url(value.url, `${pointer}/url`);
        break;
      case 'static_select':
      case 'multi_static_select':
      case 'overflow':
      case 'radio_buttons':
      case 'checkboxes':
        options(
          'options',
          value.type === 'overflow'
            ? 5
            : value.type === 'radio_buttons' || value.type === 'checkboxes'
              ? 10
              : 100,
        );
        if (value.initial_option !== undefined)
          this.option(value.initial_option, `${pointer}/initial_option`);
        options('initial_options', 100);
        if (
          value.option_groups !== undefined &&
          this.maxItems(value.option_groups, 100, `${pointer}/option_groups`)
        )
          (value.option_groups as unknown[]).forEach((g, i) => {
            if (!isObj(g)) return;
            this.textObject(g.label, 75, `${pointer}/option_groups/${i}/label`, true);
            if (this.maxItems(g.options, 100, `${pointer}/option_groups/${i}/options`))
              (g.options as unknown[]).forEach((o, j) => {
                this.option(o, `${pointer}/option_groups/${i}/options/${j}`);
              });
          });
        break;
      case 'plain_text_input':
        if (
          value.max_length !== undefined &&
          (typeof value.max_length !== 'number' || value.max_length > 3000)
        )
          this.fail('must be no more than 3000', `${pointer}/max_length`);
        this.maxLength(
          value.initial_value,
          typeof value.max_length === 'number' ? Math.min(value.max_length, 3000) : 3000,
          `${pointer}/initial_value`,
        );
        break;
      case 'image':
        this.url(value.image_url, `${pointer}/image_url`);
        this.maxLength(value.alt_text, 2000, `${pointer}/alt_text`, true);
        break;
      default:
        break;
    }
  }

  block(value: unknown, pointer: string): void {
    if (!isObj(value)) {
      this.fail('must be a block object', pointer);
      return;
    }
    this.maxLength(value.block_id, 255, `${pointer}/block_id`);
    switch (value.type) {
      case 'section':
        if (value.text === undefined && value.fields === undefined)
          this.fail('must provide either text or fields', pointer);
        if (value.text !== undefined) this.textObject(value.text, 3000, `${pointer}/text`);
        if (value.fields !== undefined && this.maxItems(value.fields, 10, `${pointer}/fields`))
          (value.fields as unknown[]).forEach((f, i) => {
            this.textObject(f, 2000, `${pointer}/fields/${i}`);
          });
        if (value.accessory !== undefined) this.element(value.accessory, `${pointer}/accessory`);
        break;
      case 'header':
        this.textObject(value.text, 150, `${pointer}/text`, true);
        break;
      case 'context':
        if (this.maxItems(value.elements, 10, `${pointer}/elements`))
          (value.elements as unknown[]).forEach((e, i) => {
            isObj(e) && e.type === 'image'
              ? this.element(e, `${pointer}/elements/${i}`)
              : this.textObject(e, 3000, `${pointer}/elements/${i}`);
          });
        break;
      case 'actions':
        if (this.maxItems(value.elements, 25, `${pointer}/elements`))
          (value.elements as unknown[]).forEach((e, i) => {
            this.element(e, `${pointer}/elements/${i}`);
          });
        break;
      case 'input':
        this.textObject(value.label, 2000, `${pointer}/label`, true);
        if (value.hint !== undefined) this.textObject(value.hint, 2000, `${pointer}/hint`, true);
        this.element(value.element, `${pointer}/element`);
        break;
      case 'image':
        this.url(value.image_url, `${pointer}/image_url`);
        this.maxLength(value.alt_text, 2000, `${pointer}/alt_text`, true);
        if (value.title !== undefined) this.textObject(value.title, 2000, `${pointer}/title`, true);
        break;
      case 'divider':
      case 'rich_text':
      case 'file':
      case 'video':
      case 'markdown':
        break;
      default:
        this.fail(`unsupported type: ${String(value.type)}`, `${pointer}/type`);
    }
  }

  blocks(value: unknown, max: number, pointer: string): void {
    if (value === undefined) return;
    if (this.maxItems(value, max, pointer))
      (value as unknown[]).forEach((b, i) => {
        this.block(b, `${pointer}/${i}`);
      });
  }
}

/** Problems Slack would report for a message's blocks (at most 50 of them). */
export function messageBlockProblems(blocks: unknown): string[] {
  const checker = new Checker();
  checker.blocks(blocks, 50, '/blocks');
  return checker.problems;
}

/** Problems Slack would report for a modal or a Home view (at most 100 blocks). */
export function viewProblems(view: Obj): string[] {
  const checker = new Checker();
  checker.blocks(view.blocks, 100, '/view/blocks');
  if (view.type === 'modal') {
    checker.textObject(view.title, 24, '/view/title', true);
    if (view.submit !== undefined) checker.textObject(view.submit, 24, '/view/submit', true);
    if (view.close !== undefined) checker.textObject(view.close, 24, '/view/close', true);
  }
  checker.maxLength(view.private_metadata, 3000, '/view/private_metadata');
  checker.maxLength(view.callback_id, 255, '/view/callback_id');
  checker.maxLength(view.external_id, 255, '/view/external_id');
  return checker.problems;
}

/** The longest `text` Slack accepts on a message. */
export const MAX_MESSAGE_TEXT = 40_000;
