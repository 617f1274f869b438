import { z } from 'zod';

/** The pilot-edition implementation steps from the Vtiger FAQ ("What are the essential steps…?"). */
export const CHECKLIST_STEPS = [
  {
    key: 'identify_team',
    title: 'Identify a team',
    description:
      'Pick the people who configure and pilot the CRM: they know the process and decide for their colleagues.',
  },
  {
    key: 'decide_scope',
    title: 'Decide the scope',
    description:
      'Define which teams, modules, records and integrations the pilot covers, and what success looks like.',
  },
  {
    key: 'design_flow',
    title: 'Design the flow',
    description: 'Map how a lead, deal or ticket moves through your process before you configure anything.',
  },
  {
    key: 'configure',
    title: 'Configure the CRM',
    description:
      'Set up users and roles, fields, masking, mailroom rules, webhooks and access keys for the flow.',
  },
  {
    key: 'test',
    title: 'Test the configuration',
    description:
      'Run real cases through the flow with the pilot team and fix what does not fit before rolling out.',
  },
] as const;

export const CHECKLIST_STATUSES = ['not_started', 'in_progress', 'done', 'skipped'] as const;
export type StepKey = (typeof CHECKLIST_STEPS)[number]['key'];
export const stepKeySchema = z.enum(CHECKLIST_STEPS.map((s) => s.key) as [StepKey, ...StepKey[]]);

export const stepSchema = z
  .object({
    key: stepKeySchema,
    title: z.string(),
    description: z.string(),
    status: z.enum(CHECKLIST_STATUSES),
    notes: z.string(),
    updatedBy: z.object({ id: z.number().int(), username: z.string() }).nullable(),
    updatedAt: z.string().nullable(),
  })
  .meta({ id: 'SetupChecklistStep' });

export const checklistSchema = z.object({
  steps: z.array(stepSchema),
  completed: z.number().int().describe('steps done or skipped'),
  total: z.number().int(),
});

export const checklistPatchSchema = z
  .object({
    steps: z
      .array(
        z
          .object({
            key: stepKeySchema,
            status: z.enum(CHECKLIST_STATUSES).optional(),
            notes: z.string().max(5000).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(CHECKLIST_STEPS.length),
  })
  .strict();
