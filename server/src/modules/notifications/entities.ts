import { Column, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { instant } from '../../platform/db/columns';

/**
 * One-time subscription grants: each "accept" in wx.requestSubscribeMessage lets the app send
 * that resident one message of that template. Counted here so a message is sent only while a
 * grant is left, and consumed when it is.
 */
@Entity('subscribe_grant')
@Index('uq_subscribe_grant', ['residentId', 'template'], { unique: true })
export class SubscribeGrant {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'int' })
  residentId: number;

  /** SubscribeTemplate key (paymentSuccess, …), not the WeChat id: ids may be reconfigured */
  @Column({ type: 'varchar', length: 32 })
  template: string;

  @Column({ type: 'int', default: 0 })
  remaining: number;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

export const notificationsEntities = [SubscribeGrant];
