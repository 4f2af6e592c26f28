/**
 * Outgoing mail (invoices to a resident's mailbox) through nodemailer: SMTP when SMTP_URL is
 * set; in sandbox mode without SMTP, kept in the sandbox's mailbox for tests and the demo.
 */
import nodemailer from 'nodemailer';
import type { SandboxMail } from '../sandbox';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  attachments?: { filename: string; content: Buffer; contentType?: string }[];
}

export interface Mailer {
  send(msg: MailMessage): Promise<void>;
}

export function createMailer(opts: { smtpUrl?: string; from: string; mailbox?: SandboxMail[] }): Mailer {
  if (opts.smtpUrl) {
    const transport = nodemailer.createTransport(opts.smtpUrl);
    return {
      async send(msg) {
        await transport.sendMail({ from: opts.from, ...msg });
      },
    };
  }
  if (!opts.mailbox) {
    return {
      async send() {
        throw new Error('mail is not configured (SMTP_URL)');
      },
    };
  }
  // a real MIME message is built (so attachments are encoded as they would be), then kept
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true });
  const mailbox = opts.mailbox;
  return {
    async send(msg) {
      await transport.sendMail({ from: opts.from, ...msg });
      mailbox.push({
        to: msg.to,
        subject: msg.subject,
        text: msg.text,
        attachments: (msg.attachments ?? []).map((a) => ({ filename: a.filename, size: a.content.length })),
        at: new Date().toISOString(),
      });
    },
  };
}
