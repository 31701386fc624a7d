import { Construct } from "constructs";
import { BudgetsBudget } from "@cdktf/provider-aws/lib/budgets-budget";

export interface MonthlyBudgetProps {
  /** `AccessWeaver-Production-Monthly` (the environment's title elsewhere). */
  readonly name: string;
  readonly accountId: string;
  readonly limitUsd: number;
  /** Where the notifications go: the alerts topic (its policy lets this budget publish). */
  readonly topicArn: string;
  /**
   * Cost-allocation tags the budget counts, `key -> value`. Budgets ORs the values of one filter, so one tag
   * narrows the budget and two would widen it: pass one. It counts only once the tag is activated as a
   * cost-allocation tag in Billing.
   * @default none: the whole account
   */
  readonly tag?: { readonly key: string; readonly value: string };
}

/** Percent of the limit at which the budget notifies, and on what. */
export const BUDGET_NOTIFICATIONS = [
  { threshold: 80, notificationType: "FORECASTED" },
  { threshold: 100, notificationType: "ACTUAL" },
] as const;

/** The guide's "Cost Monitoring" budget: a monthly cost limit that warns at 80 % forecast and 100 % actual. */
export class MonthlyBudget extends Construct {
  readonly budget: BudgetsBudget;

  constructor(scope: Construct, id: string, props: MonthlyBudgetProps) {
    super(scope, id);
    this.budget = new BudgetsBudget(this, "budget", {
      name: props.name,
      accountId: props.accountId,
      budgetType: "COST",
      timeUnit: "MONTHLY",
      limitAmount: String(props.limitUsd),
      limitUnit: "USD",
      ...(props.tag ? { costFilter: [{ name: "TagKeyValue", values: [`user:${props.tag.key}$${props.tag.value}`] }] } : {}),
      notification: BUDGET_NOTIFICATIONS.map((n) => ({
        comparisonOperator: "GREATER_THAN",
        threshold: n.threshold,
        thresholdType: "PERCENTAGE",
        notificationType: n.notificationType,
        subscriberSnsTopicArns: [props.topicArn],
      })),
    });
  }
}
